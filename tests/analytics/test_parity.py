"""Every metric in METRICS gives the same rows on DuckDB (Ibis) and on ClickHouse (compiled SQL).

The data set is deterministic: several organizations, NULLs, cross-organization links and
moments on day, ISO-week and year boundaries (2026 has an ISO week 53 that ends in 2027).
"""

from __future__ import annotations

import inspect
import math
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import chdb.session
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import ClickHouseType

from opencx.analytics.engine import connect
from opencx.analytics.metrics import METRICS, Metric
from opencx.analytics.tables import ANALYTICS_TABLES
from opencx.text import EMOTIONS

ORGS = (1, 2, 3)
START, END = date(2026, 12, 1), date(2027, 1, 15)
AS_OF = datetime(2027, 1, 6, 12, 0, 0, tzinfo=UTC)
EDGES = [
    datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),  # just before the range
    datetime(2026, 12, 1, tzinfo=UTC),  # first moment of the range (a Tuesday)
    datetime(2026, 12, 27, 23, 59, 59, 999999, tzinfo=UTC),  # last moment of a Sunday
    datetime(2026, 12, 28, tzinfo=UTC),  # Monday, ISO week 53 of 2026
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2027, 1, 1, tzinfo=UTC),  # new year, still ISO week 53 of 2026
    datetime(2027, 1, 3, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2027, 1, 4, tzinfo=UTC),  # Monday, ISO week 1 of 2027
    datetime(2027, 1, 14, 23, 59, 59, 999999, tzinfo=UTC),  # last moment of the range
    datetime(2027, 1, 15, tzinfo=UTC),  # first moment after the range
]
# ClickHouse functions that estimate; a metric must give exact numbers on every engine.
APPROXIMATE = re.compile(r"\b(uniq|uniqHLL12|uniqCombined|uniqCombined64|quantile|median)\(")


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.3:
        return rng.choice(EDGES)
    return datetime(2026, 11, 25, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(57 * 86400), microseconds=rng.randrange(1_000_000)
    )


def _rows() -> dict[str, list[dict[str, Any]]]:
    """A few thousand rows for every analytics table, the same on every run."""
    rng = random.Random(20261122)
    rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in ANALYTICS_TABLES}
    created = datetime(2026, 11, 1, tzinfo=UTC)

    def add(table: str, org_id: int, **values: Any) -> int:
        row_id = len(rows[table]) + 1
        rows[table].append(
            {"id": row_id, "org_id": org_id, "created_at": created, "updated_at": created, **values}
        )
        return row_id

    for org_id in ORGS:
        customers = [
            add(
                "customers",
                org_id,
                language=rng.choice(["en", "nl", "pl", None]),
                country=rng.choice(["NL", "PL", "DE", None]),
                city=rng.choice(["Utrecht", "Gdansk", None]),
                segments=rng.choice([[], ["vip"], ["vip", "newsletter"]]),
                merged_into_id=None,
                erased_at=rng.choice([None] * 9 + [_moment(rng)]),
            )
            for _ in range(40)
        ]
        # Some profiles were merged (one into the first profile of organization 1, which for
        # the other organizations is a stranger's): survey metrics read the survivor's country.
        for n in range(3, len(customers) - 1, 7):
            merged = rows["customers"][customers[n] - 1]
            merged["merged_into_id"] = 1 if n == 3 else customers[n + 1]
        for customer_id in customers:
            add(
                "consent_records",
                org_id,
                customer_id=customer_id,
                purpose=rng.choice(["marketing", "surveys"]),
                channel=rng.choice(["email", "sms"]),
                status=rng.choice(["granted", "withdrawn"]),
                occurred_at=_moment(rng),
            )
        touchpoints = [
            add(
                "touchpoints",
                org_id,
                key=f"tp-{n}",
                name=f"Touchpoint {n} of org {org_id}",
                stage=rng.choice(["purchase", "delivery", "service"]),
                channel=rng.choice(["web", "email", "store"]),
                is_online=rng.random() < 0.7,
                department="service",
            )
            for n in range(5)
        ]
        for n in range(1000):
            add(
                "events",
                org_id,
                event_id=f"e-{org_id}-{n}",
                customer_id=rng.choice([*customers[:15], None, None]),
                anonymous_id=f"anon-{rng.randrange(50)}",
                session_id=rng.choice([f"s-{rng.randrange(200)}", None]),
                # A few events point at another organization's touchpoint: they must not count.
                touchpoint_id=rng.choice(touchpoints) if rng.random() < 0.97 else 1,
                type=rng.choice(["page_view", "add_to_cart", "purchase"]),
                occurred_at=_moment(rng),
                device=rng.choice(["mobile", "desktop", None]),
                properties='{"path": "/checkout"}',
            )
        products = [
            add(
                "products",
                org_id,
                sku=f"SKU-{n}",
                name=f"Product {n}",
                kind="product",
                category=rng.choice(["shoes", "bags"]),
                price=Decimal(rng.randrange(500, 20000)) / 100,
                currency="EUR",
            )
            for n in range(8)
        ]
        for n in range(250):
            placed_at = _moment(rng)
            order_id = add(
                "orders",
                org_id,
                external_id=f"O-{org_id}-{n}",
                customer_id=rng.choice([*customers, None]),
                channel=rng.choice(["web", "store"]),
                store=rng.choice(["Amsterdam", None]),
                country="NL",
                placed_at=placed_at,
                currency="EUR",
                total_amount=Decimal("0.00"),
            )
            for _ in range(rng.randint(1, 3)):
                add(
                    "order_lines",
                    org_id,
                    order_id=order_id,
                    product_id=rng.choice(products) if rng.random() < 0.97 else 1,
                    quantity=rng.randint(1, 4),
                    unit_price=Decimal(rng.randrange(500, 20000)) / 100,
                )
            add(
                "payments",
                org_id,
                order_id=order_id,
                kind=rng.choice(["payment", "payment", "refund"]),
                amount=Decimal(rng.randrange(500, 20000)) / 100,
                method="card",
                occurred_at=placed_at,
            )
            promised_at = rng.choice(EDGES) if rng.random() < 0.3 else _moment(rng)
            delivered_at = rng.choice(
                [None, promised_at, promised_at + timedelta(microseconds=1)]
                + [promised_at + timedelta(hours=rng.randint(-72, 72))] * 3
            )
            delivery_id = add(
                "deliveries",
                org_id,
                order_id=order_id,
                carrier=rng.choice(["PostNL", "DPD"]),
                status="ordered" if delivered_at is None else "delivered",
                promised_at=promised_at,
                delivered_at=delivered_at,
            )
            for status in ("ordered", "shipped"):
                add(
                    "delivery_status_changes",
                    org_id,
                    delivery_id=delivery_id,
                    status=status,
                    occurred_at=placed_at,
                )
        for _ in range(400):
            kind = rng.choice(["nps", "nps", "csat", "ces"])
            touchpoint_id = rng.choice([*touchpoints, None])
            invitation_id = add(
                "survey_invitations",
                org_id,
                survey_id={"nps": 1, "csat": 2, "ces": 3}[kind],
                customer_id=rng.choice(customers),
                channel="email",
                language="nl",
                touchpoint_id=touchpoint_id,
                order_id=None,
                conversation_id=None,
                agent_id=None,
                team=None,
                expires_at=EDGES[-1],
                sent_at=None,
            )
            # the invitation's week: EDGES and random moments alike
            rows["survey_invitations"][-1]["created_at"] = _moment(rng)
            if rng.random() < 0.3:
                continue  # never answered
            add(
                "survey_responses",
                org_id,
                invitation_id=invitation_id,
                survey_id={"nps": 1, "csat": 2, "ces": 3}[kind],
                version_id=1,
                customer_id=rng.choice([*customers, None]),
                kind=kind,
                channel=rng.choice(["email", "chat"]),
                language=rng.choice(["en", "nl", "pl"]),
                # Some responses have no touchpoint: they form a group of their own.
                touchpoint_id=touchpoint_id,
                agent_id=rng.choice([None, 1, 2]),
                team=rng.choice([None, "Service NL"]),
                score=rng.choice(
                    [None, *range(*{"nps": (0, 11), "csat": (1, 6), "ces": (1, 8)}[kind])]
                ),
                completed=rng.random() < 0.8,
                submitted_at=_moment(rng),
            )
        for _ in range(200):
            started_at = _moment(rng)
            status = rng.choice(["open", "pending", "resolved", "resolved", "closed"])
            channel = rng.choice(["email", "chat", "whatsapp", "voice"])
            answered = rng.random() < 0.8
            first_response_at = started_at + timedelta(seconds=rng.randrange(1, 40000))
            conversation_id = add(
                "conversations",
                org_id,
                customer_id=rng.choice(customers),
                channel=channel,
                status=status,
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                tags=rng.choice([[], ["delivery"], ["delivery", "refund"]]),
                assignee_id=rng.choice([None, 1, 2, 3]),
                team=rng.choice([None, "Service NL", "Service PL"]),
                touchpoint_id=rng.choice([*touchpoints, None]),
                first_response_at=first_response_at if answered else None,
                resolved_at=(
                    first_response_at + timedelta(hours=rng.randint(0, 200))
                    if status in ("resolved", "closed")
                    else None
                ),
                reopened_count=rng.choice([0, 0, 0, 1, 2]),
                last_message_at=first_response_at,
                merged_into_id=None,
            )
            rows["conversations"][-1]["created_at"] = started_at
            for m in range(rng.randint(1, 4)):
                add(
                    "conversation_messages",
                    org_id,
                    conversation_id=conversation_id,
                    channel=channel,
                    direction=rng.choice(["inbound", "outbound", "note"]) if m else "inbound",
                    author_kind=rng.choice(["customer", "agent", "bot", "system"]),
                    author_user_id=rng.choice([None, 1, 2]),
                    sent_at=started_at + timedelta(minutes=m * rng.randrange(1, 600)),
                )
        for n in range(150):
            opened_at = _moment(rng)
            status = rng.choice(["open", "contacted", "resolved", "resolved", "cancelled"])
            # Around the 48-hour mark: exactly on it, a second or a fraction of one after it.
            took = rng.choice(
                [
                    timedelta(hours=48),
                    timedelta(hours=48, seconds=1),
                    timedelta(hours=48, microseconds=rng.randrange(1_000_000)),
                    timedelta(seconds=rng.randrange(1, 10 * 86400)),
                    timedelta(seconds=rng.randrange(1, 10 * 86400)),
                ]
            )
            add(
                "survey_follow_ups",
                org_id,
                response_id=n + 1,
                survey_id=1,
                customer_id=rng.choice([*customers, None]),
                owner_id=rng.choice([None, 1, 2, 3]),
                agent_id=rng.choice([None, 1, 2]),
                team=rng.choice([None, "Service NL", "Service PL"]),
                touchpoint_id=rng.choice([*touchpoints, None]),
                score=rng.randrange(0, 7),
                status=status,
                opened_at=opened_at,
                due_at=opened_at + timedelta(hours=48),
                # A reopened follow-up is open again but was contacted before.
                contacted_at=None if rng.random() < 0.3 else opened_at + took / 2,
                resolved_at=opened_at + took if status == "resolved" else None,
            )
        # Analyses of this organization's comments and messages; a few failed, a few point at
        # another organization's text (they must not count), scores at the emotion threshold.
        sources = [
            ("survey_answer", row["id"])
            for row in rows["survey_responses"]
            if row["org_id"] == org_id
        ] + [
            ("conversation_message", row["id"])
            for row in rows["conversation_messages"]
            if row["org_id"] == org_id and row["direction"] == "inbound"
        ]
        for source_kind, source_id in sources:
            failed = rng.random() < 0.05
            sentiment = rng.choice(["negative", "neutral", "positive"])
            add(
                "text_analyses",
                org_id,
                source_kind=source_kind,
                source_id=source_id if rng.random() < 0.97 else 1,
                language=rng.choice(["en", "nl", "pl", "unknown"]),
                sentiment=None if failed else sentiment,
                sentiment_score=None if failed else round(rng.uniform(-1, 1), 4),
                **{
                    name: None if failed else rng.choice([0.35, 0.3499, round(rng.random(), 4)])
                    for name in EMOTIONS
                },
                status="failed" if failed else "done",
                analyzed_at=None if failed else _moment(rng),
            )
        # Journeys: visits of a few events minutes apart, half without a session id (split
        # by the 30-minute gap, some gaps just over it), at the org's touchpoints and a web one.
        # (its own random stream: blocks added above it do not change its rows)
        rng = random.Random(7001 + org_id)
        journey_touchpoints = [
            *touchpoints,
            add(
                "touchpoints",
                org_id,
                key="tp-web",
                name=f"Web page of org {org_id}",
                stage="consideration",
                channel="web",
                is_online=True,
                department="sales",
            ),
        ]
        for visit in range(80):
            at = _moment(rng)
            customer_id = rng.choice([*customers[:20], None])
            session_id = rng.choice([f"v-{org_id}-{visit}", None])
            device = rng.choice(["mobile", "desktop"])
            for step in range(rng.randint(1, 6)):
                gaps = [timedelta(0), timedelta(minutes=rng.randint(1, 29)), timedelta(minutes=31)]
                at += rng.choice(
                    [*gaps, timedelta(hours=rng.randint(1, 30)), timedelta(seconds=1800)]
                )
                add(
                    "events",
                    org_id,
                    event_id=f"v-{org_id}-{visit}-{step}",
                    customer_id=customer_id,
                    anonymous_id=None if customer_id else f"anon-{visit % 30}",
                    session_id=session_id,
                    touchpoint_id=rng.choice(journey_touchpoints),
                    type=rng.choice(["page_view", "page_view", "add_to_cart", "purchase"]),
                    occurred_at=at,
                    device=device,
                    properties="{}",
                )
        # One Dutch customer's mobile visit that reaches tp-1 from tp-0, whatever the draws
        # above: the filtered path metrics always have a row to compare.
        rows["customers"][customers[1] - 1]["country"] = "NL"
        for step, key in enumerate(("tp-0", "tp-1", "tp-2")):
            add(
                "events",
                org_id,
                event_id=f"nl-{org_id}-{step}",
                customer_id=customers[1],
                anonymous_id=None,
                session_id=f"nl-{org_id}",
                touchpoint_id=touchpoints[int(key[-1])],
                type="page_view",
                occurred_at=datetime(2026, 12, 10, 10, 5 * step, tzinfo=UTC),
                device="mobile",
                properties="{}",
            )
        # Journeys: contacts with and without a complaint intent, reviews, error events and
        # task steps in sessions, at every stage, some of customers whose delivery ran late.
        # (its own random stream: blocks added above it do not change its rows)
        rng = random.Random(7002 + org_id)
        journey_touchpoints = [
            add(
                "touchpoints",
                org_id,
                key=f"journey-{stage}",
                name=f"Journey {stage}",
                stage=stage,
                channel=rng.choice(["web", "app", "store"]),
                is_online=rng.random() < 0.7,
                department="service",
            )
            for stage in ("awareness", "consideration", "purchase", "delivery", "use", "loyalty")
        ]
        buyers = [row["customer_id"] for row in rows["orders"] if row["org_id"] == org_id]
        for n in range(600):
            add(
                "events",
                org_id,
                event_id=f"j-{org_id}-{n}",
                customer_id=rng.choice([*buyers[:40], None]),
                anonymous_id=rng.choice([f"anon-{rng.randrange(30)}", None]),
                session_id=rng.choice([f"js-{rng.randrange(60)}", None]),
                touchpoint_id=rng.choice([*journey_touchpoints, *touchpoints]),
                type=rng.choice(
                    [
                        "page_view",
                        "purchase",
                        "complaint",
                        "review",
                        "chat_started",
                        "checkout_error",
                    ]
                ),
                occurred_at=_moment(rng),
                device=rng.choice(["mobile", "desktop", "in-store", None]),
                properties=rng.choice(
                    [
                        '{"intent": "complaint"}',
                        '{"intent":"question"}',
                        '{"rating": 1, "text": "late"}',
                        '{"rating":5}',
                        '{"rating": 12}',
                        None,
                    ]
                ),
            )
        # SLA clocks of this organization's conversations (and one pointing at another's).
        for conversation in [c for c in rows["conversations"] if c["org_id"] == org_id]:
            started_at = conversation["created_at"]
            first_due = started_at + timedelta(minutes=rng.choice([2, 30, 480]))
            first_met = conversation["first_response_at"]
            resolution_due = first_due + timedelta(hours=rng.choice([4, 8, 24]))
            resolution_met = conversation["resolved_at"]
            add(
                "conversation_slas",
                org_id,
                conversation_id=conversation["id"] if rng.random() < 0.98 else 1,
                policy_id=rng.choice([None, 1]),
                business_hours=rng.random() < 0.7,
                started_at=started_at,
                first_response_target_minutes=rng.choice([None, 30, 30, 30]),
                first_response_due_at=first_due,
                first_response_met_at=first_met,
                first_response_breached_at=(
                    first_due if first_met is None or first_met > first_due else None
                )
                if rng.random() < 0.8
                else None,
                resolution_target_minutes=rng.choice([None, 480, 480]),
                resolution_due_at=resolution_due,
                resolution_met_at=resolution_met,
                resolution_breached_at=resolution_due
                if resolution_met is not None and resolution_met > resolution_due
                else None,
            )
    return rows


def _arrow(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    return {
        table.name: pa.Table.from_pylist(rows[table.name], schema=table.schema.to_pyarrow())
        for table in ANALYTICS_TABLES
    }


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return _arrow(_rows())


@pytest.fixture(scope="module")
def duckdb_store(data: dict[str, pa.Table]) -> Iterator[BaseBackend]:
    backend = connect("duckdb:///:memory:")
    for name, table in data.items():
        backend.insert(name, table)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def clickhouse_store(
    data: dict[str, pa.Table], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[chdb.session.Session]:
    folder = tmp_path_factory.mktemp("chdb")
    session = chdb.session.Session(str(folder / "store"))
    for table in ANALYTICS_TABLES:
        columns = ", ".join(
            f"`{name}` {ClickHouseType.to_string(dtype)}" for name, dtype in table.schema.items()
        )
        session.query(
            f"CREATE TABLE `{table.name}` ({columns}) ENGINE = MergeTree ORDER BY (org_id, id)"
        )
        parquet = folder / f"{table.name}.parquet"
        pq.write_table(data[table.name], parquet)
        session.query(f"INSERT INTO `{table.name}` SELECT * FROM file('{parquet}', Parquet)")
    yield session
    session.close()


def _expression(metric: Metric, store: BaseBackend, org_id: int) -> ibis.Table:
    params = {"org_id": org_id, "start": START, "end": END, "as_of": AS_OF}
    accepted = inspect.signature(metric.compute).parameters
    tables = [store.table(name) for name in metric.tables]
    return metric.compute(*tables, **{k: v for k, v in params.items() if k in accepted})


def _override(metric: Metric, store: BaseBackend, org_id: int) -> str | None:
    if metric.clickhouse_sql is None:
        return None
    params = {"org_id": org_id, "start": START, "end": END, "as_of": AS_OF}
    accepted = inspect.signature(metric.clickhouse_sql).parameters
    tables = [store.table(name) for name in metric.tables]
    return metric.clickhouse_sql(*tables, **{k: v for k, v in params.items() if k in accepted})


def _sorted(rows: list[dict[str, Any]], columns: list[str]) -> list[tuple[Any, ...]]:
    records = [tuple(row[c] for c in columns) for row in rows]
    return sorted(
        records, key=lambda record: [(v is None, v if v is not None else 0) for v in record]
    )


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-12)
    return bool(left == right)


def test_the_data_set_crosses_week_and_year_boundaries(data: dict[str, pa.Table]) -> None:
    # given the generated events
    days = {moment.date() for moment in data["events"].column("occurred_at").to_pylist()}
    # then they fall on both sides of each boundary the metrics must respect
    assert {date(2026, 12, 27), date(2026, 12, 28), date(2027, 1, 3), date(2027, 1, 4)} <= days
    assert data["events"].column("customer_id").null_count > 0
    assert data["deliveries"].column("delivered_at").null_count > 0


@pytest.mark.parametrize("org_id", [1, 2])
@pytest.mark.parametrize("metric", METRICS, ids=[m.name for m in METRICS])
def test_metric_gives_the_same_rows_on_duckdb_and_clickhouse(
    metric: Metric,
    org_id: int,
    duckdb_store: BaseBackend,
    clickhouse_store: chdb.session.Session,
) -> None:
    # given the same rows in DuckDB and in ClickHouse, and the metric as one Ibis expression
    expression = _expression(metric, duckdb_store, org_id)
    columns = list(expression.schema().names)
    # A metric with a ClickHouse override runs it there instead of the compiled expression.
    override = _override(metric, duckdb_store, org_id)
    clickhouse_sql = override or ibis.to_sql(expression, dialect="clickhouse")

    # when it runs on DuckDB through Ibis and on ClickHouse as compiled SQL
    on_duckdb = expression.to_pyarrow().to_pylist()
    on_clickhouse = clickhouse_store.query(clickhouse_sql, "ArrowTable").to_pylist()

    # then both give the same, non-empty rows, computed exactly
    assert not APPROXIMATE.search(clickhouse_sql), "metric compiles to an approximate function"
    assert on_duckdb, f"{metric.name} has no rows for org {org_id}: extend the data set"
    duckdb_rows, clickhouse_rows = _sorted(on_duckdb, columns), _sorted(on_clickhouse, columns)
    assert len(duckdb_rows) == len(clickhouse_rows)
    for duckdb_row, clickhouse_row in zip(duckdb_rows, clickhouse_rows, strict=True):
        assert all(map(_same, duckdb_row, clickhouse_row)), (duckdb_row, clickhouse_row)


# In the data set survey 1 is the NPS survey, 2 the CSAT one and 3 the CES one.
ONE_SURVEY = {"csat": 2, "ces": 3}
SURVEY_METRICS = [m for m in METRICS if "survey_id" in inspect.signature(m.compute).parameters]


@pytest.mark.parametrize("metric", SURVEY_METRICS, ids=[m.name for m in SURVEY_METRICS])
def test_metric_of_one_survey_gives_the_same_rows_on_duckdb_and_clickhouse(
    metric: Metric, duckdb_store: BaseBackend, clickhouse_store: chdb.session.Session
) -> None:
    # given a metric narrowed to one survey (its results page)
    survey_id = next((v for k, v in ONE_SURVEY.items() if k in metric.name), 1)
    tables = [duckdb_store.table(name) for name in metric.tables]
    expression = metric.compute(*tables, org_id=1, start=START, end=END, survey_id=survey_id)
    columns = list(expression.schema().names)
    # when it runs on both engines
    on_duckdb = expression.to_pyarrow().to_pylist()
    clickhouse_sql = ibis.to_sql(expression, dialect="clickhouse")
    on_clickhouse = clickhouse_store.query(clickhouse_sql, "ArrowTable").to_pylist()
    # then both give the same non-empty rows, all of that survey where the rows name it
    assert on_duckdb
    assert all(row.get("survey_id", survey_id) == survey_id for row in on_duckdb)
    duckdb_rows, clickhouse_rows = _sorted(on_duckdb, columns), _sorted(on_clickhouse, columns)
    assert len(duckdb_rows) == len(clickhouse_rows)
    for duckdb_row, clickhouse_row in zip(duckdb_rows, clickhouse_rows, strict=True):
        assert all(map(_same, duckdb_row, clickhouse_row)), (duckdb_row, clickhouse_row)
