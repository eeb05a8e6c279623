"""A synthetic analytics store for journey benchmarks: millions of events, built inside DuckDB.

    from journey_store import build_store   # from a script in benchmarks/, like ingest_events
    path = build_store("/tmp/journeys.duckdb", events=10_000_000, responses=1_000_000)

or, from the shell (prints the table sizes):

    .venv/bin/python benchmarks/journey_store.py [--events 10000000] [--responses 1000000]
        [--path /tmp/opencx-journey-store.duckdb] [--seed 20261130]

`build_store(path, *, events, responses, seed)` writes a DuckDB file whose tables are exactly the
analytics store's (created with `AnalyticsTable.duckdb_ddl()` from opencx.analytics.tables), so
`opencx.analytics.engine.connect("duckdb:///" + path)` opens it and every metric runs on it.
It returns the path. A file built before with the same parameters (and generator version) is
reused as it is: the parameters are kept in a `_journey_store` table in the file.

What is in it (all rows belong to organization 1; ids start at 1):
- touchpoints: the demo shop's 25 touchpoints (opencx.demo.catalog.TOUCHPOINTS), ids 1..25 in
  that order, so "web-checkout" is id 10.
- customers: events // 50 profiles; country NL/BE/PL/GB (40/15/25/20), language, segments
  drawn from new/loyal/b2b/prospect (some none).
- events: `events` rows in about events // 5 sessions of 1 to 9 events (so 10M events give
  about 2M sessions). Each session follows one of five journey templates (web buyer, social
  browser, app buyer, service seeker, store shopper), step by step, so paths and funnels have
  structure: sessions stop after a random number of steps, which is the funnel's drop-off.
  15% of events leave the template for a random touchpoint (type "page_view"). Steps are 60 to
  179 seconds apart, strictly increasing within a session. 10% of sessions have no session_id
  (their events only carry a customer or anonymous id); 60% of sessions belong to a known
  customer. Device per session: desktop/mobile/tablet (50/40/10). Event types of the templates:
  ad_click, product_view, comparison_view, add_to_cart, checkout_start, checkout_complete,
  account_created, newsletter_open, newsletter_click, delivery_shipped, tracking_view, ...
  All events fall in the 90 days before 2026-12-01 00:00 UTC (STORE_END).
- survey_invitations: responses * 5 // 4; survey_responses: `responses` rows answering the first
  invitations (NPS 0-10, CSAT 1-5, CES 1-7; survey ids 1, 2, 3) with touchpoint, channel, team.
- orders (events // 50), deliveries (one per order, ~15% late, ~3% still open) and
  conversations (events // 100).

Randomness comes from DuckDB's hash() of the row number and the seed, not random(): the same
seed gives the same file on any number of threads (random() with setseed is only repeatable
single-threaded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from opencx.analytics.tables import ANALYTICS_TABLES, SYNC_STATE_DDL
from opencx.demo.catalog import COUNTRY_WEIGHTS, TOUCHPOINTS

GENERATOR_VERSION = 1
DEFAULT_SEED = 20261130
DEFAULT_PATH = Path(os.environ.get("TMPDIR", "/tmp")) / "opencx-journey-store.duckdb"
STORE_END = datetime(2026, 12, 1, tzinfo=UTC)
STORE_DAYS = 90
ORG_ID = 1
SESSION_NO_ID_SHARE = 0.10
KNOWN_CUSTOMER_SHARE = 0.60
NOISE_SHARE = 0.15
TOUCHPOINT_IDS = {spec.key: n for n, spec in enumerate(TOUCHPOINTS, start=1)}

# Five journeys of nine steps: (touchpoint key, event type); a session walks the first 1..9.
TEMPLATES: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = (
    (
        35,  # weight: web buyers
        (
            ("search-ad", "ad_click"),
            ("web-product-page", "product_view"),
            ("web-comparison", "comparison_view"),
            ("web-product-page", "product_view"),
            ("web-product-page", "add_to_cart"),
            ("web-checkout", "checkout_start"),
            ("web-checkout", "checkout_complete"),
            ("delivery-updates", "delivery_shipped"),
            ("track-and-trace", "tracking_view"),
        ),
    ),
    (
        20,  # social browsers
        (
            ("social-ad", "ad_click"),
            ("web-product-page", "product_view"),
            ("web-product-page", "product_view"),
            ("web-account", "account_created"),
            ("web-product-page", "add_to_cart"),
            ("web-checkout", "checkout_start"),
            ("web-checkout", "checkout_complete"),
            ("product-reviews", "review_written"),
            ("refer-a-friend", "referral_sent"),
        ),
    ),
    (
        20,  # app buyers from the newsletter
        (
            ("newsletter", "newsletter_open"),
            ("newsletter", "newsletter_click"),
            ("app-product-page", "product_view"),
            ("app-product-page", "add_to_cart"),
            ("app-checkout", "checkout_start"),
            ("app-checkout", "checkout_complete"),
            ("delivery-updates", "delivery_shipped"),
            ("noordwind-club", "points_earned"),
            ("product-registration", "product_registered"),
        ),
    ),
    (
        15,  # service seekers
        (
            ("delivery-updates", "delivery_delayed"),
            ("track-and-trace", "tracking_view"),
            ("contact-form", "form_submitted"),
            ("live-chat", "chat_started"),
            ("service-phone", "call_started"),
            ("complaints-desk", "complaint_filed"),
            ("social-care", "mention"),
            ("live-chat", "chat_started"),
            ("product-reviews", "review_written"),
        ),
    ),
    (
        10,  # store shoppers
        (
            ("social-post", "post_view"),
            ("store-visit", "store_visit"),
            ("store-checkout", "checkout_complete"),
            ("delivery-updates", "delivery_shipped"),
            ("how-to-videos", "video_view"),
            ("product-registration", "product_registered"),
            ("noordwind-club", "points_earned"),
            ("phone-order", "checkout_complete"),
            ("product-reviews", "review_written"),
        ),
    ),
)
STEPS = 9


def _sql_list(values: list[object]) -> str:
    return "[" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values) + "]"


def _parameters(events: int, responses: int, seed: int) -> dict[str, int]:
    return {"version": GENERATOR_VERSION, "events": events, "responses": responses, "seed": seed}


def _stored_parameters(path: Path) -> dict[str, int] | None:
    try:
        with duckdb.connect(str(path), read_only=True) as store:
            rows = store.execute("SELECT name, value FROM _journey_store").fetchall()
    except (duckdb.Error, OSError):
        return None
    return {name: value for name, value in rows}


def build_store(
    path: str | os.PathLike[str] = DEFAULT_PATH,
    *,
    events: int = 10_000_000,
    responses: int = 1_000_000,
    seed: int = DEFAULT_SEED,
) -> Path:
    """Write (or reuse) a DuckDB analytics store with `events` events and `responses` answers."""
    target = Path(path)
    wanted = _parameters(events, responses, seed)
    if target.exists() and _stored_parameters(target) == wanted:
        return target
    partial = target.with_name(target.name + ".building")
    for stale in (partial, Path(f"{partial}.wal")):
        stale.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(partial)) as store:
        _fill(store, events=events, responses=responses, seed=seed)
        store.execute("CREATE TABLE _journey_store (name VARCHAR PRIMARY KEY, value BIGINT)")
        store.executemany("INSERT INTO _journey_store VALUES (?, ?)", list(wanted.items()))
        store.execute("CHECKPOINT")
    Path(f"{target}.wal").unlink(missing_ok=True)
    partial.replace(target)
    return target


def _fill(store: duckdb.DuckDBPyConnection, *, events: int, responses: int, seed: int) -> None:
    store.execute("SET TimeZone = 'UTC'")
    store.execute(SYNC_STATE_DDL)
    for table in ANALYTICS_TABLES:
        store.execute(table.duckdb_ddl())
    # u(n, salt): a uniform number in [0, 1) from the row number, the salt and the seed.
    store.execute(f"CREATE TEMP MACRO u(n, salt) AS (hash(n, salt, {seed}) % 1000003) / 1000003.0")
    store.execute(f"CREATE TEMP MACRO pick(n, salt, k) AS 1 + (hash(n, salt, {seed}) % k)::BIGINT")
    end = STORE_END.strftime("%Y-%m-%d %H:%M:%S+00")
    stamp = f"TIMESTAMPTZ '{end}'"
    customers = max(1000, events // 50)
    # About five events a session; a few more sessions than needed, cut at `events` rows.
    sessions = events // 5 + events // 40 + 20

    stamps = (STORE_END, STORE_END)
    store.executemany(
        "INSERT INTO touchpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (n, ORG_ID, s.key, s.name, s.stage, s.channel, s.is_online, s.department, *stamps)
            for n, s in enumerate(TOUCHPOINTS, start=1)
        ],
    )

    countries = list(COUNTRY_WEIGHTS)
    bounds = [sum(list(COUNTRY_WEIGHTS.values())[: i + 1]) for i in range(len(countries))]
    total = bounds[-1]
    country_case = " ".join(
        f"WHEN pick(i, 'country', {total}) <= {bound} THEN '{country}'"
        for country, bound in zip(countries, bounds, strict=True)
    )
    store.execute(
        f"""
        INSERT INTO customers BY NAME
        SELECT i AS id, {ORG_ID} AS org_id,
               ['en', 'nl', 'pl'][pick(i, 'language', 3)] AS language,
               CASE {country_case} END AS country,
               NULL AS city,
               list_filter(['new', 'loyal', 'b2b', 'prospect'],
                           lambda s, k: u(i * 4 + k, 'segment') < 0.25) AS segments,
               NULL AS merged_into_id, NULL AS erased_at,
               {stamp} - INTERVAL {STORE_DAYS * 2} DAY AS created_at,
               {stamp} - INTERVAL {STORE_DAYS * 2} DAY AS updated_at
        FROM range(1, {customers} + 1) t(i)
        """
    )

    weights = [weight for weight, _ in TEMPLATES]
    template_bounds = [sum(weights[: i + 1]) for i in range(len(weights))]
    template_case = " ".join(
        f"WHEN pick(s, 'template', {template_bounds[-1]}) <= {bound} THEN {n}"
        for n, bound in enumerate(template_bounds, start=1)
    )
    steps_tp = _sql_list(
        [TOUCHPOINT_IDS[key] for _, template in TEMPLATES for key, _type in template]
    )
    steps_type = _sql_list([type_ for _, template in TEMPLATES for _key, type_ in template])
    store.execute(
        f"""
        CREATE TEMP TABLE journey_sessions AS
        SELECT s,
               CASE {template_case} END AS template,
               pick(s, 'length', {STEPS}) AS length,
               {stamp} - INTERVAL {STORE_DAYS} DAY
                 + to_seconds(floor(u(s, 'start') * {STORE_DAYS * 86400 - 3600})::BIGINT)
                 AS started_at,
               CASE WHEN u(s, 'known') < {KNOWN_CUSTOMER_SHARE}
                    THEN pick(s, 'customer', {customers}) END AS customer_id,
               u(s, 'no-session') < {SESSION_NO_ID_SHARE} AS without_session,
               ['desktop', 'desktop', 'desktop', 'desktop', 'desktop',
                'mobile', 'mobile', 'mobile', 'mobile', 'tablet'][pick(s, 'device', 10)] AS device
        FROM range(1, {sessions} + 1) t(s)
        """
    )
    store.execute(
        f"""
        INSERT INTO events BY NAME
        WITH steps AS (
            SELECT s.*, k, (s.s * {STEPS} + k) AS n
            FROM journey_sessions s, range(0, {STEPS}) r(k)
            WHERE k < s.length
        ),
        numbered AS (
            SELECT *, row_number() OVER (ORDER BY n) AS id FROM steps
        )
        SELECT id, {ORG_ID} AS org_id,
               'ev-' || id AS event_id,
               customer_id,
               CASE WHEN customer_id IS NULL THEN 'anon-' || s END AS anonymous_id,
               CASE WHEN NOT without_session THEN 's-' || s END AS session_id,
               CASE WHEN u(n, 'noise') < {NOISE_SHARE} THEN pick(n, 'noise-tp', {len(TOUCHPOINTS)})
                    ELSE {steps_tp}[(template - 1) * {STEPS} + k + 1] END AS touchpoint_id,
               CASE WHEN u(n, 'noise') < {NOISE_SHARE} THEN 'page_view'
                    ELSE {steps_type}[(template - 1) * {STEPS} + k + 1] END AS type,
               started_at + to_seconds(k * 120 + pick(n, 'gap', 60) - 1) AS occurred_at,
               device,
               '{{}}' AS properties,
               started_at + to_seconds(k * 120 + 180) AS created_at,
               started_at + to_seconds(k * 120 + 180) AS updated_at
        FROM numbered
        WHERE id <= {events}
        """
    )
    store.execute("DROP TABLE journey_sessions")

    invitations = responses * 5 // 4
    kinds = "['nps', 'nps', 'csat', 'ces']"
    store.execute(
        f"""
        INSERT INTO survey_invitations BY NAME
        SELECT i AS id, {ORG_ID} AS org_id,
               list_position(['nps', 'csat', 'ces'], {kinds}[pick(i, 'kind', 4)]) AS survey_id,
               pick(i, 'customer', {customers}) AS customer_id,
               'email' AS channel,
               ['en', 'nl', 'pl'][pick(i, 'language', 3)] AS language,
               pick(i, 'touchpoint', {len(TOUCHPOINTS)}) AS touchpoint_id,
               NULL AS order_id, NULL AS conversation_id, NULL AS agent_id, NULL AS team,
               {stamp} + INTERVAL 14 DAY AS expires_at,
               {stamp} - INTERVAL {STORE_DAYS} DAY
                 + to_seconds(floor(u(i, 'sent') * {STORE_DAYS * 86400 - 86400})::BIGINT)
                 AS sent_at,
               sent_at AS created_at, sent_at AS updated_at
        FROM range(1, {invitations} + 1) t(i)
        """
    )
    store.execute(
        f"""
        INSERT INTO survey_responses BY NAME
        SELECT i.id, {ORG_ID} AS org_id, i.id AS invitation_id, i.survey_id, 1 AS version_id,
               i.customer_id, ['nps', 'csat', 'ces'][i.survey_id] AS kind,
               ['email', 'email', 'web', 'chat'][pick(i.id, 'channel', 4)] AS channel,
               i.language, i.touchpoint_id,
               CASE WHEN i.touchpoint_id >= 18 THEN pick(i.id, 'agent', 8) END AS agent_id,
               CASE WHEN i.touchpoint_id >= 18
                    THEN ['Service NL', 'Service PL', 'Service UK'][pick(i.id, 'team', 3)] END
                 AS team,
               CASE WHEN u(i.id, 'skip') < 0.03 THEN NULL
                    WHEN i.survey_id = 1 THEN pick(i.id, 'score', 11) - 1
                    WHEN i.survey_id = 2 THEN pick(i.id, 'score', 5)
                    ELSE pick(i.id, 'score', 7) END AS score,
               u(i.id, 'completed') < 0.9 AS completed,
               i.sent_at + to_seconds(pick(i.id, 'answer', 86400)) AS submitted_at,
               submitted_at AS created_at, submitted_at AS updated_at
        FROM survey_invitations i
        WHERE i.id <= {responses}
        """
    )

    orders = max(1, events // 50)
    store.execute(
        f"""
        INSERT INTO orders BY NAME
        SELECT o.id, {ORG_ID} AS org_id, 'O-' || o.id AS external_id, o.customer_id,
               CASE WHEN u(o.id, 'store') < 0.2 THEN 'store' ELSE 'web' END AS channel,
               NULL AS store, c.country, o.placed_at, 'EUR' AS currency,
               (pick(o.id, 'amount', 150000) / 100.0)::DECIMAL(12, 2) AS total_amount,
               o.placed_at AS created_at, o.placed_at AS updated_at
        FROM (
            SELECT i AS id, pick(i, 'customer', {customers}) AS customer_id,
                   {stamp} - INTERVAL {STORE_DAYS} DAY
                     + to_seconds(floor(u(i, 'placed') * {STORE_DAYS * 86400 - 86400})::BIGINT)
                     AS placed_at
            FROM range(1, {orders} + 1) t(i)
        ) o JOIN customers c ON c.id = o.customer_id
        """
    )
    store.execute(
        f"""
        INSERT INTO deliveries BY NAME
        SELECT o.id, {ORG_ID} AS org_id, o.id AS order_id,
               ['PostNL', 'DPD', 'InPost', 'DHL'][pick(o.id, 'carrier', 4)] AS carrier,
               CASE WHEN u(o.id, 'open') < 0.03 THEN 'shipped' ELSE 'delivered' END AS status,
               o.placed_at + INTERVAL 3 DAY AS promised_at,
               CASE WHEN u(o.id, 'open') < 0.03 THEN NULL
                    WHEN u(o.id, 'late') < 0.15
                      THEN o.placed_at + INTERVAL 3 DAY + to_seconds(pick(o.id, 'delay', 345600))
                    ELSE o.placed_at + to_seconds(86400 + pick(o.id, 'early', 172800)) END
                 AS delivered_at,
               o.placed_at AS created_at, o.placed_at AS updated_at
        FROM orders o
        """
    )
    conversations = max(1, events // 100)
    store.execute(
        f"""
        INSERT INTO conversations BY NAME
        SELECT i AS id, {ORG_ID} AS org_id,
               {stamp} - INTERVAL {STORE_DAYS} DAY
                 + to_seconds(floor(u(i, 'opened') * {STORE_DAYS * 86400 - 86400})::BIGINT)
                 AS created_at,
               created_at AS updated_at,
               pick(i, 'customer', {customers}) AS customer_id,
               ['email', 'chat', 'whatsapp', 'voice'][pick(i, 'channel', 4)] AS channel,
               ['open', 'pending', 'resolved', 'resolved', 'closed'][pick(i, 'status', 5)]
                 AS status,
               ['low', 'normal', 'normal', 'high', 'urgent'][pick(i, 'priority', 5)] AS priority,
               [['delivery'], [], ['refund'], ['delivery', 'complaint']][pick(i, 'tags', 4)]
                 AS tags,
               pick(i, 'assignee', 8) AS assignee_id,
               ['Service NL', 'Service PL', 'Service UK'][pick(i, 'team', 3)] AS team,
               17 + pick(i, 'touchpoint', 6) AS touchpoint_id,
               created_at + to_seconds(pick(i, 'response', 14400)) AS first_response_at,
               CASE WHEN status IN ('resolved', 'closed')
                    THEN first_response_at + to_seconds(pick(i, 'resolve', 172800)) END
                 AS resolved_at,
               CASE WHEN u(i, 'reopened') < 0.1 THEN 1 ELSE 0 END AS reopened_count,
               first_response_at AS last_message_at, NULL AS merged_into_id
        FROM range(1, {conversations} + 1) t(i)
        """
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    path = build_store(args.path, events=args.events, responses=args.responses, seed=args.seed)
    took = time.perf_counter() - started
    with duckdb.connect(str(path), read_only=True) as store:
        for table in ("customers", "events", "survey_responses", "orders", "conversations"):
            (count,) = store.execute(f'SELECT count(*) FROM "{table}"').fetchone() or (0,)
            print(f"{table:>18}: {count:>12,}")
        (sessions,) = store.execute("SELECT count(DISTINCT session_id) FROM events").fetchone() or (
            0,
        )
        print(f"{'sessions':>18}: {sessions:>12,}")
    print(f"store {path} ready in {took:.1f} s (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    sys.exit(main())
