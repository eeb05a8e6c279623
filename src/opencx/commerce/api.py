"""REST API of commerce: products, orders and their import, payments, deliveries, reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.commerce import service
from opencx.commerce.schemas import (
    DeliveryOut,
    DeliveryStatusIn,
    LateDelivery,
    OrderDetail,
    OrderImportBatch,
    OrderIn,
    OrderOut,
    PaymentIn,
    PaymentOut,
    ProductBatch,
    ProductOut,
    UnitsSoldRow,
)
from opencx.db import RowId, RowOffset
from opencx.ingestion import ImportReport

router = APIRouter(prefix="/api/v1", tags=["commerce"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[RowOffset, Query()]


@router.get("/products", response_model=list[ProductOut])
def list_products(
    principal: ApiPrincipal, db: DbSession, limit: Limit = 500, offset: Offset = 0
) -> list[ProductOut]:
    products = service.list_products(db, org_id=principal.org_id, limit=limit, offset=offset)
    return [ProductOut.model_validate(p) for p in products]


@router.post("/products", response_model=list[ProductOut])
def upsert_products(body: ProductBatch, principal: ApiPrincipal, db: DbSession) -> list[ProductOut]:
    products = service.upsert_products(db, org_id=principal.org_id, products=body.products)
    return [ProductOut.model_validate(p) for p in products]


@router.get("/products/{product_id}", response_model=ProductOut)
def read_product(product_id: RowId, principal: ApiPrincipal, db: DbSession) -> ProductOut:
    product = service.get_product(db, org_id=principal.org_id, product_id=product_id)
    return ProductOut.model_validate(product)


@router.post("/orders", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(body: OrderIn, principal: ApiPrincipal, db: DbSession) -> OrderOut:
    """Store one order; re-sending an order with a known external_id returns the stored one."""
    return OrderOut.model_validate(service.create_order(db, org_id=principal.org_id, data=body))


@router.post(
    "/orders/import",
    response_model=ImportReport,
    responses={422: {"model": ImportReport, "description": "row errors; nothing was stored"}},
)
def import_orders(
    body: OrderImportBatch, principal: ApiPrincipal, db: DbSession, response: Response
) -> ImportReport:
    """Import orders all-or-nothing; orders already stored (same external_id) count as duplicates."""
    report = service.import_orders(db, org_id=principal.org_id, rows=body.orders)
    if not report.ok:
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return report


@router.get("/orders", response_model=list[OrderOut])
def list_orders(
    principal: ApiPrincipal,
    db: DbSession,
    customer_id: RowId | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[OrderOut]:
    orders = service.list_orders(
        db,
        org_id=principal.org_id,
        customer_ids=None if customer_id is None else [customer_id],
        limit=limit,
        offset=offset,
    )
    return [OrderOut.model_validate(o) for o in orders]


@router.get("/orders/{order_id}", response_model=OrderDetail)
def read_order(order_id: RowId, principal: ApiPrincipal, db: DbSession) -> OrderDetail:
    return service.get_order_detail(db, org_id=principal.org_id, order_id=order_id)


@router.post(
    "/orders/{order_id}/payments", response_model=PaymentOut, status_code=status.HTTP_201_CREATED
)
def record_payment(
    order_id: RowId, body: PaymentIn, principal: ApiPrincipal, db: DbSession
) -> PaymentOut:
    payment = service.record_payment(db, org_id=principal.org_id, order_id=order_id, payment=body)
    return PaymentOut.model_validate(payment)


@router.post("/deliveries/{delivery_id}/status", response_model=DeliveryOut)
def record_delivery_status(
    delivery_id: RowId, body: DeliveryStatusIn, principal: ApiPrincipal, db: DbSession
) -> DeliveryOut:
    delivery = service.record_delivery_status(
        db,
        org_id=principal.org_id,
        delivery_id=delivery_id,
        status=body.status,
        occurred_at=body.occurred_at,
        note=body.note,
    )
    return DeliveryOut.model_validate(delivery)


@router.get("/reports/units-sold", response_model=list[UnitsSoldRow])
def units_sold(
    start: AwareDatetime, end: AwareDatetime, principal: ApiPrincipal, db: DbSession
) -> list[UnitsSoldRow]:
    """Units sold per product per ISO week (Monday, UTC) for orders placed in [start, end)."""
    return service.units_sold_per_product_per_week(
        db, org_id=principal.org_id, start=start, end=end
    )


@router.get("/reports/late-deliveries", response_model=list[LateDelivery])
def late_deliveries(
    principal: ApiPrincipal,
    db: DbSession,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> list[LateDelivery]:
    """Deliveries late or overdue, promised in [start, end) when given."""
    return service.list_late_deliveries(db, org_id=principal.org_id, start=start, end=end)
