"""A small catalog and two customers per tenant, for commerce tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from opencx.commerce import service
from opencx.commerce.schemas import ProductIn
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from tests.conftest import Tenant


@dataclass
class Catalog:
    org_id: int
    anna_id: int
    bram_id: int
    stranger_id: int  # a customer of the other tenant


def add_customer(session: Session, org_id: int, email: str) -> int:
    data = CustomerIn.model_validate({"identities": [{"kind": "email", "value": email}]})
    customer, _ = customers.upsert_customer(session, org_id=org_id, data=data, source="test")
    return customer.id


def order_row(external_id: str, placed_at: str, *lines: tuple[str, int, str], **extra: Any) -> dict:
    """An order row as a shop export gives it: strings, nested lists."""
    return {
        "external_id": external_id,
        "channel": "web",
        "placed_at": placed_at,
        "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
        **extra,
    }


@pytest.fixture
def catalog(db_session: Session, tenant: Tenant, other_tenant: Tenant) -> Catalog:
    products = [
        ProductIn(sku="LAMP-1", name="Desk lamp", category="lighting", price="39.95"),
        ProductIn(sku="SOFA-2", name="Sofa", category="furniture", price="899.00"),
        ProductIn(sku="FIT-1", name="Assembly", kind="service", price="49.00"),
    ]
    service.upsert_products(db_session, org_id=tenant.org_id, products=products)
    # The other tenant sells a product with the same SKU: it must never be confused.
    service.upsert_products(db_session, org_id=other_tenant.org_id, products=products[:1])
    catalog = Catalog(
        org_id=tenant.org_id,
        anna_id=add_customer(db_session, tenant.org_id, "anna@example.nl"),
        bram_id=add_customer(db_session, tenant.org_id, "bram@example.nl"),
        stranger_id=add_customer(db_session, other_tenant.org_id, "stranger@example.com"),
    )
    db_session.commit()
    return catalog
