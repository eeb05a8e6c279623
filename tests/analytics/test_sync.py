"""The sync copies operational rows into the analytics store, and metrics read them per tenant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx import jobs
from opencx.analytics import service
from opencx.analytics.engine import duckdb_path
from opencx.analytics.sync import OVERLAP, sync_to_analytics
from opencx.analytics.tables import ANALYTICS_TABLES
from opencx.analytics.tasks import sync_job
from opencx.auth.models import Organization
from opencx.cli import app as cli
from opencx.commerce import service as commerce
from opencx.commerce.models import DeliveryStatus
from opencx.commerce.schemas import ProductIn
from opencx.conversations import service as conversations
from opencx.conversations.schemas import InboundMessageIn
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.journeys import service as journeys
from opencx.journeys.models import Event
from opencx.journeys.schemas import TouchpointIn
from opencx.settings import get_settings
from tests.conftest import Tenant

PLANTED = {
    "first name": "Zofia-PII-FIRST",
    "last name": "Kowalska-PII-LAST",
    "email": "zofia.pii@example.com",
    "phone": "+48600111222",
    "tracking code": "TRACK-PII-123",
    "delivery note": "left with neighbour PII-NOTE",
    "consent source": "newsletter form PII-SOURCE",
    "event property": "PII-PROPERTY",
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _order(
    external_id: str,
    placed_at: str,
    lines: dict[str, int],
    promised_at: str,
    delivered_at: str | None,
    customer_id: int | None = None,
) -> dict[str, Any]:
    history = [{"status": "shipped", "occurred_at": placed_at, "note": PLANTED["delivery note"]}]
    if delivered_at:
        history.append({"status": "delivered", "occurred_at": delivered_at})
    return {
        "external_id": external_id,
        "customer_id": customer_id,
        "channel": "web",
        "placed_at": placed_at,
        "lines": [{"sku": sku, "quantity": n, "unit_price": "10.00"} for sku, n in lines.items()],
        "deliveries": [
            {
                "carrier": "PostNL",
                "tracking_code": PLANTED["tracking code"],
                "promised_at": promised_at,
                "status_history": history,
            }
        ],
    }


def _shop(session: Session, org_id: int, customer_id: int | None = None) -> None:
    """Orders around the 2025/2026 year boundary; ISO week 1 of 2026 starts on 2025-12-29."""
    commerce.upsert_products(
        session,
        org_id=org_id,
        products=[
            ProductIn(sku="A", name="Alpha boots", price="10.00"),
            ProductIn(sku="B", name="Beta bag", price="10.00"),
        ],
    )
    report = commerce.import_orders(
        session,
        org_id=org_id,
        rows=[
            # Sunday, last microsecond: the week of Monday 2025-12-22
            _order(
                "O1",
                "2025-12-28T23:59:59.999999Z",
                {"A": 2, "B": 1},
                "2025-12-30T12:00:00Z",
                "2025-12-30T11:00:00Z",
                customer_id,
            ),
            # Monday, first moment: the week of 2025-12-29
            _order(
                "O2",
                "2025-12-29T00:00:00Z",
                {"A": 3},
                "2025-12-31T00:00:00Z",
                "2026-01-02T09:00:00Z",
            ),
            # New year, same ISO week; never delivered, so late once its promise has passed
            _order("O3", "2026-01-01T10:00:00Z", {"A": 1, "B": 4}, "2026-01-03T00:00:00Z", None),
            # Delivered exactly at the promise: on time
            _order(
                "O4",
                "2026-01-05T00:00:00Z",
                {"B": 2},
                "2026-01-06T00:00:00Z",
                "2026-01-06T00:00:00Z",
            ),
            # Placed before the period asked for below
            _order(
                "O5",
                "2025-11-30T12:00:00Z",
                {"A": 10},
                "2025-12-02T00:00:00Z",
                "2025-12-01T00:00:00Z",
            ),
        ],
    )
    assert report.ok, report.errors


def _customer(session: Session, org_id: int) -> int:
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": PLANTED["first name"],
                "last_name": PLANTED["last name"],
                "country": "PL",
                "city": "Gdansk",
                "segments": ["vip"],
                "identities": [
                    {"kind": "email", "value": PLANTED["email"]},
                    {"kind": "phone", "value": PLANTED["phone"]},
                ],
                "consents": [{"purpose": "marketing", "channel": "email", "status": "granted"}],
            }
        ),
        source=PLANTED["consent source"],
    )
    return customer.id


def _journeys(session: Session, org_id: int, customer_id: int | None = None) -> None:
    journeys.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key="checkout",
                name="Checkout",
                stage="purchase",
                channel="web",
                is_online=True,
                department="sales",
            ),
            TouchpointIn(
                key="store",
                name="Store visit",
                stage="purchase",
                channel="store",
                is_online=False,
                department="sales",
            ),
        ],
    )
    # (touchpoint, moment, by the customer?); without a customer, "visitor-0" stands in for them
    events = [
        ("checkout", "2025-12-31T23:59:59.999999Z", True),
        ("checkout", "2025-12-31T08:00:00Z", True),
        ("checkout", "2025-12-31T09:00:00Z", False),
        ("checkout", "2026-01-01T00:00:00Z", False),
        ("store", "2026-01-01T12:00:00Z", True),
        ("store", "2026-01-02T00:00:00Z", False),  # the day after the period asked for
    ]
    visitor = {"customer_id": customer_id} if customer_id else {"anonymous_id": "visitor-0"}
    result = journeys.ingest_events(
        session,
        org_id=org_id,
        items=[
            {
                "event_id": f"ev-{n}",
                "touchpoint": touchpoint,
                "type": "page_view",
                "timestamp": moment,
                **(
                    {**visitor, "properties": {"searched": PLANTED["event property"]}}
                    if by_customer
                    else {"anonymous_id": f"visitor-{n}"}
                ),
            }
            for n, (touchpoint, moment, by_customer) in enumerate(events)
        ],
    )
    assert not result.rejected, result.rejected


def _store() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(duckdb_path(get_settings().resolved_analytics_url()))


def _count(table: str) -> int:
    with _store() as store:
        row = store.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    assert row is not None
    return int(row[0])


def test_sync_copies_every_row_once_and_then_nothing(db_session: Session, tenant: Tenant) -> None:
    # given a shop with customers, orders and events
    customer_id = _customer(db_session, tenant.org_id)
    _shop(db_session, tenant.org_id, customer_id)
    _journeys(db_session, tenant.org_id, customer_id)
    db_session.commit()

    # when the sync runs twice
    first = sync_to_analytics()
    second = sync_to_analytics()

    # then the first copies every row and the second finds nothing new
    assert first.copied == {
        "customers": 1,
        "touchpoints": 2,
        "events": 6,
        "products": 2,
        "orders": 5,
        "order_lines": 7,
        "payments": 0,
        "deliveries": 5,
        "delivery_status_changes": 9,
        "consent_records": 1,
        "survey_invitations": 0,  # tests/surveys/test_metrics.py syncs surveys
        "survey_responses": 0,
        "survey_follow_ups": 0,  # tests/surveys/test_follow_ups.py syncs follow-ups
        "conversations": 0,  # test_sync_copies_conversations_without_their_words
        "conversation_messages": 0,
        "text_analyses": 0,  # tests/textanalytics/test_metrics.py syncs analyses
        "conversation_slas": 0,  # tests/conversations/test_sla_attainment.py syncs SLA clocks
    }
    assert second.total == 0
    assert _count("order_lines") == 7


def test_a_table_whose_columns_changed_is_rebuilt_and_copied_whole(
    db_session: Session, tenant: Tenant
) -> None:
    # given a synced store whose customers table was made by an older OpenCX (a column fewer)
    _customer(db_session, tenant.org_id)
    db_session.commit()
    sync_to_analytics()
    with _store() as store:
        store.execute('ALTER TABLE "customers" DROP COLUMN "city"')
    # when the store is opened and synced again
    report = sync_to_analytics()
    # then the table has today's columns and all its rows again, not only new ones
    assert report.copied["customers"] == 1
    assert report.copied["events"] == 0
    with _store() as store:
        names = [row[0] for row in store.execute("DESCRIBE customers").fetchall()]
    customers_table = next(t for t in ANALYTICS_TABLES if t.name == "customers")
    assert names == list(customers_table.schema.names)


def test_an_updated_delivery_status_propagates(db_session: Session, tenant: Tenant) -> None:
    # given a synced shop with an undelivered order
    _shop(db_session, tenant.org_id)
    db_session.commit()
    sync_to_analytics()
    with _store() as store:
        (delivery_id,) = store.execute(
            "SELECT d.id FROM deliveries d JOIN orders o ON o.id = d.order_id "
            "WHERE o.external_id = 'O3'"
        ).fetchone() or (None,)

    # when the carrier reports it delivered and the sync runs
    commerce.record_delivery_status(
        db_session,
        org_id=tenant.org_id,
        delivery_id=delivery_id,
        status=DeliveryStatus.delivered,
        occurred_at=_at("2026-01-04T10:00:00"),
    )
    db_session.commit()
    report = sync_to_analytics()

    # then the delivery is replaced, not duplicated, and its history grows by one
    assert report.copied["deliveries"] == 1
    assert report.copied["delivery_status_changes"] == 1
    with _store() as store:
        rows = store.execute(
            "SELECT status, delivered_at FROM deliveries WHERE id = ?", [delivery_id]
        ).fetchall()
    assert rows == [("delivered", _at("2026-01-04T10:00:00"))]
    assert _count("deliveries") == 5


def test_personal_data_never_reaches_the_analytics_store(
    db_session: Session, tenant: Tenant
) -> None:
    # given a customer whose names, identities, consent source, tracking code, delivery note
    # and event properties carry planted strings; the customer is then erased
    customer_id = _customer(db_session, tenant.org_id)
    _shop(db_session, tenant.org_id, customer_id)
    _journeys(db_session, tenant.org_id, customer_id)
    db_session.commit()
    sync_to_analytics()
    customers.erase_customer(
        db_session, org_id=tenant.org_id, customer_id=customer_id, requested_by="dpo@acme.example"
    )
    db_session.commit()

    # when the sync runs after the erasure
    report = sync_to_analytics()

    # then the erasure reached the store and no planted string is anywhere in it
    assert report.copied["customers"] == 1
    with _store() as store:
        text_columns = store.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type LIKE 'VARCHAR%'"
        ).fetchall()
        found = {
            label: [
                f"{table}.{column}"
                for table, column in text_columns
                if store.execute(
                    f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                    [f"%{planted}%"],
                ).fetchone()
                != (0,)
            ]
            for label, planted in PLANTED.items()
        }
        erased = store.execute("SELECT erased_at IS NOT NULL, city FROM customers").fetchall()
    assert len(text_columns) > 20
    assert found == {label: [] for label in PLANTED}
    assert erased == [(True, None)]


def test_a_row_committed_late_is_caught_by_the_overlap_and_older_ones_by_a_full_sync(
    db_session: Session, tenant: Tenant
) -> None:
    # given a synced event store
    _journeys(db_session, tenant.org_id)
    db_session.commit()
    sync_to_analytics()
    with _store() as store:
        (watermark,) = store.execute(
            "SELECT watermark FROM _sync_state WHERE table_name = 'events'"
        ).fetchone() or (None,)

    # when two writers commit rows stamped before the watermark: one within the overlap, one
    # long before it (a transaction that stayed open for an hour)
    def backdate(event_id: str, updated_at: datetime) -> None:
        db_session.execute(
            update(Event)
            .where(Event.org_id == tenant.org_id, Event.event_id == event_id)
            .values(type="purchase", updated_at=updated_at)
        )

    backdate("ev-0", watermark - OVERLAP / 2)
    backdate("ev-1", watermark - timedelta(hours=1))
    db_session.commit()
    incremental = sync_to_analytics()
    full = sync_to_analytics(full=True)

    # then the incremental sync takes the first, and a full sync repairs the second
    assert incremental.copied["events"] == 1
    assert full.copied["events"] == 1
    with _store() as store:
        types = store.execute("SELECT event_id, type FROM events ORDER BY event_id").fetchall()
    assert types[:2] == [("ev-0", "purchase"), ("ev-1", "purchase")]


def test_a_full_sync_removes_rows_gone_from_the_operational_store(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two synced organizations
    _shop(db_session, tenant.org_id)
    _shop(db_session, other_tenant.org_id)
    db_session.commit()
    sync_to_analytics()

    # when one organization is deleted (its rows go with it) and both kinds of sync run
    db_session.execute(delete(Organization).where(Organization.id == other_tenant.org_id))
    db_session.commit()
    incremental = sync_to_analytics()
    full = sync_to_analytics(full=True)

    # then only the full sync notices, and removes exactly that organization's rows
    assert sum(incremental.removed.values()) == 0
    assert full.removed == {
        **{table.name: 0 for table in ANALYTICS_TABLES},
        "products": 2,
        "orders": 5,
        "order_lines": 7,
        "deliveries": 5,
        "delivery_status_changes": 9,
    }
    assert full.total == 0
    with _store() as store:
        org_ids = store.execute("SELECT DISTINCT org_id FROM orders").fetchall()
    assert org_ids == [(tenant.org_id,)]


def test_units_sold_per_product_per_week(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the same shop in two organizations, the other one with an extra big order
    _shop(db_session, tenant.org_id)
    _shop(db_session, other_tenant.org_id)
    commerce.import_orders(
        db_session,
        org_id=other_tenant.org_id,
        rows=[_order("X", "2025-12-30T00:00:00Z", {"A": 100}, "2026-01-01T00:00:00Z", None)],
    )
    db_session.commit()
    sync_to_analytics()

    # when the weekly units are asked for December and the first days of January
    rows = service.compute_units_sold_per_product_per_week(
        org_id=tenant.org_id, start=date(2025, 12, 1), end=date(2026, 1, 12)
    )

    # then they match the orders of this organization, week by week (weeks start on Monday)
    assert [(r.sku, r.week_start.isoformat(), r.units, r.orders) for r in rows] == [
        ("A", "2025-12-22", 2, 1),
        ("B", "2025-12-22", 1, 1),
        ("A", "2025-12-29", 4, 2),
        ("B", "2025-12-29", 4, 1),
        ("B", "2026-01-05", 2, 1),
    ]
    assert {r.product_name for r in rows} == {"Alpha boots", "Beta bag"}


def test_events_per_touchpoint_per_day(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given events in two organizations, by one known customer and by anonymous visitors
    customer_id = _customer(db_session, tenant.org_id)
    _journeys(db_session, tenant.org_id, customer_id)
    _journeys(db_session, other_tenant.org_id)
    db_session.commit()
    sync_to_analytics()

    # when the daily counts are asked for two days
    rows = service.compute_events_per_touchpoint_per_day(
        org_id=tenant.org_id, start=date(2025, 12, 31), end=date(2026, 1, 2)
    )

    # then each UTC day counts its events and distinct known customers
    assert [(r.touchpoint_key, r.day.isoformat(), r.events, r.customers) for r in rows] == [
        ("checkout", "2025-12-31", 3, 1),
        ("checkout", "2026-01-01", 1, 0),
        ("store", "2026-01-01", 1, 1),
    ]


def test_late_deliveries_per_week(db_session: Session, tenant: Tenant) -> None:
    # given a synced shop
    _shop(db_session, tenant.org_id)
    db_session.commit()
    sync_to_analytics()

    # when late deliveries are asked for on 2026-01-02 and today
    def weeks(as_of: datetime) -> list[tuple[str, int, int, float]]:
        rows = service.compute_late_deliveries_per_week(
            org_id=tenant.org_id, start=date(2025, 12, 1), end=date(2026, 1, 12), as_of=as_of
        )
        return [(r.week_start.isoformat(), r.deliveries, r.late, r.late_share) for r in rows]

    # then a delivery after its promise is late, and an open one only once its promise passed
    assert weeks(_at("2026-01-02T12:00:00")) == [
        ("2025-12-01", 1, 0, 0.0),
        ("2025-12-29", 3, 1, pytest.approx(1 / 3)),
        ("2026-01-05", 1, 0, 0.0),
    ]
    assert weeks(datetime.now(UTC))[1] == ("2025-12-29", 3, 2, pytest.approx(2 / 3))
    # and another organization sees none of them
    assert (
        service.compute_late_deliveries_per_week(
            org_id=tenant.org_id + 1000, start=date(2025, 12, 1), end=date(2026, 1, 12)
        )
        == []
    )


def test_metrics_api_serves_the_callers_organization(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a synced shop in another organization only
    _shop(db_session, other_tenant.org_id)
    db_session.commit()
    sync_to_analytics()
    period = {"start": "2025-12-01", "end": "2026-01-12"}

    # when each organization asks for its weekly units
    mine = client.get(
        "/api/v1/analytics/units-sold-per-product-per-week", params=period, headers=tenant.headers
    )
    theirs = client.get(
        "/api/v1/analytics/units-sold-per-product-per-week",
        params=period,
        headers=other_tenant.headers,
    )
    backwards = client.get(
        "/api/v1/analytics/late-deliveries-per-week",
        params={"start": "2026-01-12", "end": "2025-12-01"},
        headers=tenant.headers,
    )

    # then each sees only its own rows, and a backwards period is refused naming `end`
    assert mine.status_code == 200 and mine.json() == []
    assert theirs.status_code == 200 and len(theirs.json()) == 5
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"][-1] == "end"


def test_sync_runs_as_a_background_job_and_from_the_cli(
    db_session: Session, tenant: Tenant, settings_env: Path
) -> None:
    # given products to copy
    _shop(db_session, tenant.org_id)
    db_session.commit()

    # when the job runs through the jobs module, and the CLI runs after it
    future = jobs.submit(sync_job)
    assert future is not None
    copied = future.result(timeout=60)
    result = CliRunner().invoke(cli, ["analytics", "sync"])

    # then the job copied the rows and the CLI found nothing left to copy
    assert copied["products"] == 2
    assert result.exit_code == 0, result.output
    assert "0 rows copied" in result.output


def test_analytics_tables_copy_only_allowed_operational_columns() -> None:
    # given the analytics tables
    # then each copies only columns that exist in its operational table, and never a PII one
    never = {"first_name", "last_name", "attributes", "tracking_code", "note", "source", "value"}
    never |= {"subject", "body", "body_html", "address", "thread_refs", "channel_message_id"}
    for table in ANALYTICS_TABLES:
        assert set(table.schema.names) <= set(table.source.c.keys()), table.name
        assert not set(table.schema.names) & never, table.name


def test_sync_copies_conversations_without_their_words(db_session: Session, tenant: Tenant) -> None:
    # given a customer's email and an agent's reply, with words that must stay behind
    inbound = conversations.record_inbound_message(
        db_session,
        org_id=tenant.org_id,
        data=InboundMessageIn.model_validate(
            {
                "channel": "email",
                "channel_message_id": "<m1@example.com>",
                "sender": {"kind": "email", "value": PLANTED["email"]},
                "subject": "Where is my order PII-SUBJECT",
                "body": "Late again PII-BODY",
                "received_at": "2026-01-05T09:00:00Z",
            }
        ),
    )
    db_session.commit()

    # when the sync runs
    copied = sync_to_analytics().copied

    # then the conversation and its message are copied with their channel and times, no words
    assert copied["conversations"] == 1 and copied["conversation_messages"] == 1
    with _store() as store:
        row = store.execute(
            'SELECT id, channel, status, created_at FROM "conversations"'
        ).fetchone()
        message = store.execute(
            'SELECT conversation_id, direction, author_kind FROM "conversation_messages"'
        ).fetchone()
        dump = str(
            store.execute('SELECT * FROM "conversations", "conversation_messages"').fetchall()
        )
    assert row is not None and row[0] == inbound.conversation.id and row[1:3] == ("email", "open")
    assert message == (inbound.conversation.id, "inbound", "customer")
    assert "PII-SUBJECT" not in dump and "PII-BODY" not in dump
