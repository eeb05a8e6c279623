"""Commerce use cases through a real database: catalog, order import, deliveries, reports, GDPR."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.commerce import service
from opencx.commerce.models import (
    Delivery,
    DeliveryStatus,
    DeliveryStatusChange,
    Order,
    OrderLine,
    Payment,
)
from opencx.commerce.schemas import OrderIn, PaymentIn, ProductIn
from opencx.customers import service as customers
from opencx.customers.timeline import collect_timeline
from opencx.errors import InvalidInput, NotFound
from tests.commerce.conftest import Catalog, order_row
from tests.conftest import Tenant


def count(session: Session, model: type, org_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))


def full_order(external_id: str, customer_id: int | None) -> dict:
    """An order with two lines, a payment and a delivery that went shipped -> delivered."""
    return order_row(
        external_id,
        "2026-11-10T09:00:00+01:00",
        ("LAMP-1", 2, "39.95"),
        ("FIT-1", 1, "49.00"),
        customer_id=customer_id,
        payments=[{"amount": "128.90", "method": "card", "occurred_at": "2026-11-10T08:01:00Z"}],
        deliveries=[
            {
                "carrier": "PostNL",
                "tracking_code": f"3S{external_id}",
                "promised_at": "2026-11-12T18:00:00Z",
                "status_history": [
                    {"status": "delivered", "occurred_at": "2026-11-12T11:00:00Z", "note": "door"},
                    {"status": "shipped", "occurred_at": "2026-11-11T07:00:00Z"},
                ],
            }
        ],
    )


# -- products ---------------------------------------------------------------------------------


def test_upsert_products_updates_by_sku_within_the_organization(
    db_session: Session, catalog: Catalog, other_tenant: Tenant
) -> None:
    # when a known SKU comes again with a new price, next to a new SKU
    service.upsert_products(
        db_session,
        org_id=catalog.org_id,
        products=[
            ProductIn(sku="LAMP-1", name="Desk lamp", price="34.95"),
            ProductIn(sku="RUG-9", name="Rug", price="120.00"),
        ],
    )
    db_session.commit()
    # then the product is updated in place and the new one added
    skus = {p.sku: p.price for p in service.list_products(db_session, org_id=catalog.org_id)}
    assert skus == {
        "FIT-1": Decimal("49.00"),
        "LAMP-1": Decimal("34.95"),
        "RUG-9": Decimal("120.00"),
        "SOFA-2": Decimal("899.00"),
    }
    # and the other tenant's product with the same SKU keeps its price
    (theirs,) = service.list_products(db_session, org_id=other_tenant.org_id)
    assert theirs.price == Decimal("39.95")
    with pytest.raises(NotFound):
        service.get_product(db_session, org_id=catalog.org_id, product_id=theirs.id)


# -- order import -----------------------------------------------------------------------------


def test_import_with_any_bad_row_stores_nothing_and_names_each_field(
    db_session: Session, catalog: Catalog
) -> None:
    # given a batch with one good row and four bad ones
    rows = [
        full_order("A-1", catalog.anna_id),
        order_row("A-2", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95"), ("NOPE-0", 1, "1.00")),
        order_row(
            "A-3", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "1"), customer_id=catalog.stranger_id
        ),
        order_row("A-4", "2026-11-10T09:00:00", ("LAMP-1", 1, "39.95")),
        order_row("A-5", "2026-11-10T09:00:00Z", ("LAMP-1", 0, "39.95")),
    ]
    # when imported
    report = service.import_orders(db_session, org_id=catalog.org_id, rows=rows)
    db_session.commit()
    # then every error names its row and field
    assert [(e.index, e.field) for e in report.errors] == [
        (1, "lines.1.sku"),
        (2, "customer_id"),
        (3, "placed_at"),
        (4, "lines.0.quantity"),
    ]
    assert "NOPE-0" in report.errors[0].reason
    assert report.created == 0
    # and nothing at all was written, not even the good row
    for model in (Order, OrderLine, Payment, Delivery, DeliveryStatusChange):
        assert count(db_session, model, catalog.org_id) == 0


def test_import_stores_orders_with_lines_payments_and_delivery_history(
    db_session: Session, catalog: Catalog
) -> None:
    report = service.import_orders(
        db_session, org_id=catalog.org_id, rows=[full_order("A-1", catalog.anna_id)]
    )
    db_session.commit()
    assert (report.received, report.created, report.duplicates, report.errors) == (1, 1, 0, [])

    (order,) = service.list_orders(db_session, org_id=catalog.org_id)
    detail = service.get_order_detail(db_session, org_id=catalog.org_id, order_id=order.id)
    # the total comes from the lines, not from the payment
    assert detail.total_amount == Decimal("128.90")
    assert detail.placed_at == datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity) for line in detail.lines] == [("LAMP-1", 2), ("FIT-1", 1)]
    assert [p.amount for p in detail.payments] == [Decimal("128.90")]
    (delivery,) = detail.deliveries
    # the current status is the latest in time, whatever order the history came in
    assert delivery.status is DeliveryStatus.delivered
    assert delivery.delivered_at == datetime(2026, 11, 12, 11, 0, tzinfo=UTC)
    assert [c.status for c in delivery.status_history] == [
        DeliveryStatus.shipped,
        DeliveryStatus.delivered,
    ]


def test_reimport_is_idempotent_by_external_id(db_session: Session, catalog: Catalog) -> None:
    # given two imported orders
    first = [full_order("A-1", catalog.anna_id), full_order("A-2", catalog.bram_id)]
    service.import_orders(db_session, org_id=catalog.org_id, rows=first)
    db_session.commit()
    # when the same orders come again, with one new order sent twice in the batch
    again = [*first, full_order("A-3", None), full_order("A-3", None)]
    report = service.import_orders(db_session, org_id=catalog.org_id, rows=again)
    db_session.commit()
    # then only the new order is stored, once; the others count as duplicates
    assert (report.received, report.created, report.duplicates) == (4, 1, 3)
    assert count(db_session, Order, catalog.org_id) == 3
    assert count(db_session, OrderLine, catalog.org_id) == 6
    assert count(db_session, Payment, catalog.org_id) == 3
    assert count(db_session, Delivery, catalog.org_id) == 3
    assert count(db_session, DeliveryStatusChange, catalog.org_id) == 6


def test_same_external_id_in_two_organizations_are_two_orders(
    db_session: Session, catalog: Catalog, other_tenant: Tenant
) -> None:
    row = order_row("SHARED-1", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95"))
    service.import_orders(db_session, org_id=catalog.org_id, rows=[row])
    report = service.import_orders(db_session, org_id=other_tenant.org_id, rows=[row])
    db_session.commit()
    assert report.created == 1
    assert count(db_session, Order, other_tenant.org_id) == 1


def test_create_order_returns_the_stored_order_when_sent_again(
    db_session: Session, catalog: Catalog
) -> None:
    data = OrderIn.model_validate(full_order("W-1", catalog.anna_id))
    first = service.create_order(db_session, org_id=catalog.org_id, data=data)
    again = service.create_order(db_session, org_id=catalog.org_id, data=data)
    db_session.commit()
    assert again.id == first.id
    assert count(db_session, OrderLine, catalog.org_id) == 2


def test_create_order_with_unknown_sku_is_refused_naming_the_line(
    db_session: Session, catalog: Catalog
) -> None:
    data = OrderIn.model_validate(
        order_row("W-2", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "1"), ("GONE", 1, "1"))
    )
    with pytest.raises(InvalidInput) as error:
        service.create_order(db_session, org_id=catalog.org_id, data=data)
    assert error.value.field == "lines.1.sku"


def test_list_orders_filters_by_customer_newest_first(
    db_session: Session, catalog: Catalog
) -> None:
    rows = [
        order_row("O-1", "2026-11-01T10:00:00Z", ("LAMP-1", 1, "1"), customer_id=catalog.anna_id),
        order_row("O-2", "2026-11-03T10:00:00Z", ("LAMP-1", 1, "1"), customer_id=catalog.anna_id),
        order_row("O-3", "2026-11-02T10:00:00Z", ("LAMP-1", 1, "1"), customer_id=catalog.bram_id),
    ]
    service.import_orders(db_session, org_id=catalog.org_id, rows=rows)
    db_session.commit()
    annas = service.list_orders(db_session, org_id=catalog.org_id, customer_ids=[catalog.anna_id])
    assert [o.external_id for o in annas] == ["O-2", "O-1"]


def test_record_payment_adds_a_refund(db_session: Session, catalog: Catalog) -> None:
    order = service.create_order(
        db_session, org_id=catalog.org_id, data=OrderIn.model_validate(full_order("R-1", None))
    )
    refund = PaymentIn(kind="refund", amount="39.95", occurred_at=datetime.now(UTC))
    service.record_payment(db_session, org_id=catalog.org_id, order_id=order.id, payment=refund)
    db_session.commit()
    detail = service.get_order_detail(db_session, org_id=catalog.org_id, order_id=order.id)
    assert [(p.kind.value, p.amount) for p in detail.payments][-1] == ("refund", Decimal("39.95"))


# -- deliveries -------------------------------------------------------------------------------


def _one_delivery(db_session: Session, catalog: Catalog, promised_at: str) -> int:
    row = order_row(
        "D-1",
        "2026-11-02T10:00:00Z",
        ("SOFA-2", 1, "899.00"),
        deliveries=[{"carrier": "DHL", "promised_at": promised_at}],
    )
    service.import_orders(db_session, org_id=catalog.org_id, rows=[row])
    db_session.commit()
    (order,) = service.list_orders(db_session, org_id=catalog.org_id)
    (delivery,) = service.get_order_detail(
        db_session, org_id=catalog.org_id, order_id=order.id
    ).deliveries
    return delivery.id


def test_delivery_status_history_keeps_every_change_and_the_latest_is_current(
    db_session: Session, catalog: Catalog
) -> None:
    delivery_id = _one_delivery(db_session, catalog, "2026-11-05T18:00:00Z")
    record = service.record_delivery_status
    # a delivery without history starts as ordered
    assert service.get_delivery(
        db_session, org_id=catalog.org_id, delivery_id=delivery_id
    ).status is (DeliveryStatus.ordered)
    # when the carrier reports shipped, delayed and delivered, and then a late 'shipped' report
    at = datetime(2026, 11, 3, 8, tzinfo=UTC)
    record(
        db_session, org_id=catalog.org_id, delivery_id=delivery_id, status="shipped", occurred_at=at
    )
    record(
        db_session,
        org_id=catalog.org_id,
        delivery_id=delivery_id,
        status=DeliveryStatus.delayed,
        occurred_at=at + timedelta(days=1),
        note="storm",
    )
    record(
        db_session,
        org_id=catalog.org_id,
        delivery_id=delivery_id,
        status=DeliveryStatus.delivered,
        occurred_at=at + timedelta(days=3),
    )
    delivery = record(
        db_session,
        org_id=catalog.org_id,
        delivery_id=delivery_id,
        status=DeliveryStatus.shipped,
        occurred_at=at + timedelta(hours=1),
    )
    db_session.commit()
    # then the latest status in time stays current and delivered_at is set
    assert delivery.status is DeliveryStatus.delivered
    assert delivery.delivered_at == at + timedelta(days=3)
    (order,) = service.list_orders(db_session, org_id=catalog.org_id)
    (detail,) = service.get_order_detail(
        db_session, org_id=catalog.org_id, order_id=order.id
    ).deliveries
    assert [(c.status.value, c.note) for c in detail.status_history] == [
        ("shipped", ""),
        ("shipped", ""),
        ("delayed", "storm"),
        ("delivered", ""),
    ]


def test_delivery_of_another_organization_is_not_found(
    db_session: Session, catalog: Catalog, other_tenant: Tenant
) -> None:
    delivery_id = _one_delivery(db_session, catalog, "2026-11-05T18:00:00Z")
    with pytest.raises(NotFound):
        service.record_delivery_status(
            db_session,
            org_id=other_tenant.org_id,
            delivery_id=delivery_id,
            status=DeliveryStatus.delivered,
            occurred_at=datetime.now(UTC),
        )


def test_late_deliveries_lists_late_and_overdue_with_days_late(
    db_session: Session, catalog: Catalog
) -> None:
    # given four deliveries: late, on time, overdue and not yet due
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)

    def order(external_id: str, promised: str, delivered: str | None) -> dict:
        history = [{"status": "delivered", "occurred_at": delivered}] if delivered else []
        return order_row(
            external_id,
            "2026-11-01T10:00:00Z",
            ("LAMP-1", 1, "39.95"),
            customer_id=catalog.anna_id,
            deliveries=[{"promised_at": promised, "status_history": history}],
        )

    rows = [
        order("LATE", "2026-11-05T12:00:00Z", "2026-11-07T00:00:00Z"),
        order("ON-TIME", "2026-11-05T12:00:00Z", "2026-11-05T09:00:00Z"),
        order("OVERDUE", "2026-11-17T12:00:00Z", None),
        order("NOT-DUE", "2026-11-21T12:00:00Z", None),
    ]
    service.import_orders(db_session, org_id=catalog.org_id, rows=rows)
    db_session.commit()
    # when listed
    late = service.list_late_deliveries(db_session, org_id=catalog.org_id, now=now)
    # then the late one (1.5 days) and the overdue one (3 days so far) are listed
    assert [(d.order_external_id, d.days_late) for d in late] == [("LATE", 1.5), ("OVERDUE", 3.0)]
    assert late[0].customer_id == catalog.anna_id
    # and the period filters on the promise date
    since = datetime(2026, 11, 10, tzinfo=UTC)
    recent = service.list_late_deliveries(db_session, org_id=catalog.org_id, start=since, now=now)
    assert [d.order_external_id for d in recent] == ["OVERDUE"]


# -- units sold per week ----------------------------------------------------------------------


def test_units_sold_per_week_splits_at_monday_midnight_utc(
    db_session: Session, catalog: Catalog, other_tenant: Tenant
) -> None:
    # given orders either side of the boundary between ISO weeks (Monday 2026-11-09 00:00 UTC)
    rows = [
        # Sunday 23:30 UTC, although it is already Monday in Amsterdam
        order_row("W45-a", "2026-11-09T00:30:00+01:00", ("LAMP-1", 2, "39.95")),
        order_row("W45-b", "2026-11-02T00:00:00Z", ("LAMP-1", 1, "39.95"), ("SOFA-2", 1, "899")),
        order_row("W46-a", "2026-11-09T00:00:00Z", ("LAMP-1", 3, "39.95")),
        order_row("W46-b", "2026-11-15T23:59:59Z", ("LAMP-1", 4, "39.95")),
        # the end of the period is exclusive
        order_row("W47", "2026-11-16T00:00:00Z", ("LAMP-1", 50, "39.95")),
    ]
    service.import_orders(db_session, org_id=catalog.org_id, rows=rows)
    theirs = order_row("X", "2026-11-10T10:00:00Z", ("LAMP-1", 99, "39.95"))
    service.import_orders(db_session, org_id=other_tenant.org_id, rows=[theirs])
    db_session.commit()
    # when the report runs for those two weeks
    report = service.units_sold_per_product_per_week(
        db_session,
        org_id=catalog.org_id,
        start=datetime(2026, 11, 2, tzinfo=UTC),
        end=datetime(2026, 11, 16, tzinfo=UTC),
    )
    # then units fall in the week of their UTC time, per product
    assert [(r.week_start, r.sku, r.units) for r in report] == [
        (date(2026, 11, 2), "LAMP-1", 3),
        (date(2026, 11, 2), "SOFA-2", 1),
        (date(2026, 11, 9), "LAMP-1", 7),
    ]
    assert report[0].name == "Desk lamp"


def test_units_sold_needs_an_aware_period_in_order(db_session: Session, catalog: Catalog) -> None:
    with pytest.raises(InvalidInput) as error:
        service.units_sold_per_product_per_week(
            db_session,
            org_id=catalog.org_id,
            start=datetime(2026, 11, 2),
            end=datetime(2026, 11, 9, tzinfo=UTC),
        )
    assert error.value.field == "start"
    with pytest.raises(InvalidInput) as error:
        service.units_sold_per_product_per_week(
            db_session,
            org_id=catalog.org_id,
            start=datetime(2026, 11, 9, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
        )
    assert error.value.field == "end"


# -- customer timeline and GDPR ---------------------------------------------------------------


def test_orders_and_deliveries_appear_on_the_customer_timeline(
    db_session: Session, catalog: Catalog
) -> None:
    service.import_orders(
        db_session,
        org_id=catalog.org_id,
        rows=[full_order("T-1", catalog.anna_id), full_order("T-2", catalog.bram_id)],
    )
    db_session.commit()
    entries = collect_timeline(db_session, org_id=catalog.org_id, customer_ids=[catalog.anna_id])
    assert [(e.kind, e.title) for e in entries if e.kind in {"order", "delivery"}] == [
        ("delivery", "Delivery delivered: order T-1"),
        ("delivery", "Delivery shipped: order T-1"),
        ("order", "Order T-1"),
    ]


def test_erasure_keeps_orders_but_strips_tracking_codes_and_notes(
    db_session: Session, catalog: Catalog
) -> None:
    # given orders of Anna and Bram with tracking codes and carrier notes
    service.import_orders(
        db_session,
        org_id=catalog.org_id,
        rows=[full_order("G-1", catalog.anna_id), full_order("G-2", catalog.bram_id)],
    )
    db_session.commit()
    export = customers.export_customer(
        db_session, org_id=catalog.org_id, customer_id=catalog.anna_id
    )
    assert [o["external_id"] for o in export["orders"]] == ["G-1"]
    assert export["orders"][0]["deliveries"][0]["tracking_code"] == "3SG-1"
    # when Anna is erased
    customers.erase_customer(
        db_session, org_id=catalog.org_id, customer_id=catalog.anna_id, requested_by="dpo"
    )
    db_session.commit()
    # then her order stays for the figures, without tracking code or notes
    (annas,) = service.list_orders(
        db_session, org_id=catalog.org_id, customer_ids=[catalog.anna_id]
    )
    detail = service.get_order_detail(db_session, org_id=catalog.org_id, order_id=annas.id)
    assert detail.total_amount == Decimal("128.90")
    assert detail.deliveries[0].tracking_code is None
    assert {c.note for c in detail.deliveries[0].status_history} == {""}
    # and Bram's order is untouched
    (brams,) = service.list_orders(
        db_session, org_id=catalog.org_id, customer_ids=[catalog.bram_id]
    )
    other = service.get_order_detail(db_session, org_id=catalog.org_id, order_id=brams.id)
    assert other.deliveries[0].tracking_code == "3SG-2"
    assert "door" in {c.note for c in other.deliveries[0].status_history}
