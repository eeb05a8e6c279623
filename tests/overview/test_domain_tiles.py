"""The overview's domain tiles (service desk, how customers feel, top pain points) on hand-built
data, through the real services, the analytics store and the page.

Two weeks ago on Tuesday at 10:00 UTC (the desk open), two chats are imported: Anna's answered
in 1 minute and resolved in 1 hour (both SLA targets met: 2 min, 4 h), Bram's answered in
10 minutes (first response breached) and resolved in 2 hours. Today Emma sends a complaint by
email, answers an NPS survey with praise and another with a passive comment. At the checkout, Anna and Bram start a checkout and
Bram's fails; on the home page both only look around.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.conversations import service as conversations
from opencx.conversations.schemas import ConversationImport
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerPatch
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.overview.service import (
    compute_feelings,
    compute_overview_chart,
    compute_service_desk,
    compute_top_pain_points,
    resolve_overview_filters,
)
from opencx.textanalytics import service as textanalytics
from tests.conftest import Tenant, login
from tests.overview.test_service import add_customer
from tests.textanalytics.conftest import answer_nps, make_rated_world, send_message

NOW = datetime.now(UTC)
TODAY = NOW.date()
TUESDAY = TODAY - timedelta(days=TODAY.weekday() + 14 - 1)
T = datetime.combine(TUESDAY, time(10), tzinfo=UTC)
FILTERS = resolve_overview_filters(period="30d", today=TODAY)
COMPLAINT = "The parcel arrived broken and two weeks late, I want a refund now"
PRAISE = "Great service, fast delivery and a very friendly driver, thank you"


def _chat(customer_id: int, name: str, reply_minutes: int, resolved_minutes: int) -> Any:
    def message(direction: str, minutes: int) -> dict[str, Any]:
        return {
            "direction": direction,
            "author_kind": "customer" if direction == "inbound" else "agent",
            "body": "...",
            "channel_message_id": f"{name}-{minutes}",
            "sent_at": (T + timedelta(minutes=minutes)).isoformat(),
        }

    return ConversationImport.model_validate(
        {
            "customer_id": customer_id,
            "channel": "chat",
            "messages": [message("inbound", 0), message("outbound", reply_minutes)],
            "resolutions": [(T + timedelta(minutes=resolved_minutes)).isoformat()],
        }
    )


def _events(session: Session, org_id: int, anna: int, bram: int) -> None:
    journeys.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(
                key=key, name=name, stage=stage, channel="web", is_online=True, department="sales"
            )
            for key, name, stage in (
                ("web.home", "Home page", "awareness"),
                ("web.checkout", "Checkout", "purchase"),
            )
        ],
    )
    happened = [
        (anna, "web.home", "page_view"),
        (bram, "web.home", "page_view"),
        (anna, "web.checkout", "checkout_start"),
        (bram, "web.checkout", "checkout_start"),
        (bram, "web.checkout", "checkout_error"),
    ]
    journeys.ingest_events(
        session,
        org_id=org_id,
        items=[
            {
                "event_id": f"ev-{n}",
                "customer_id": customer,
                "touchpoint": touchpoint,
                "type": kind,
                "timestamp": (T + timedelta(minutes=n)).isoformat(),
            }
            for n, (customer, touchpoint, kind) in enumerate(happened)
        ],
    )


@pytest.fixture
def world(db_session: Session, tenant: Tenant) -> Tenant:
    org = tenant.org_id
    anna = add_customer(db_session, org, "anna@example.nl")
    bram = add_customer(db_session, org, "bram@example.nl")
    conversations.import_conversations(
        db_session, org_id=org, items=[_chat(anna, "a", 1, 60), _chat(bram, "b", 10, 120)]
    )
    _events(db_session, org, anna, bram)
    rated = make_rated_world(db_session, org, 0)
    send_message(db_session, org, COMPLAINT, "<complaint@example.com>")
    answer_nps(db_session, rated, 10, PRAISE)
    db_session.commit()
    textanalytics.analyze_pending_texts(db_session, org_id=org)
    db_session.commit()
    sync_to_analytics()
    return tenant


def _update_profile(session: Session, world: Tenant, email: str, changes: CustomerPatch) -> None:
    """Change the profile of the customer with `email`, and sync it to the analytics store."""
    (customer,), _ = customers.list_customers(session, org_id=world.org_id, query=email)
    customers.update_customer(
        session, org_id=world.org_id, customer_id=customer.id, changes=changes
    )
    session.commit()
    sync_to_analytics()


def test_the_service_desk_tile_shows_sla_attainment_and_first_contact_resolution(
    db_session: Session, world: Tenant
) -> None:
    # when the service desk tile is computed for the last 30 days
    desk = compute_service_desk(db_session, org_id=world.org_id, filters=FILTERS, now=NOW)
    # then one first response of two was in time, both resolutions were
    assert (desk.sla.first_response_met, desk.sla.first_response_decided) == (1, 2)
    assert desk.sla.first_response_attainment == pytest.approx(0.5)
    assert (desk.sla.resolution_met, desk.sla.resolution_decided) == (2, 2)
    weeks = {w.week_start: w for w in desk.sla_weeks}
    assert weeks[TUESDAY - timedelta(days=1)].first_response_decided == 2
    # (today's email started a clock this week; its first response is not due yet)
    assert sum(w.first_response_decided for w in desk.sla_weeks) == 2
    # and the chats plus today's email: two resolved at first contact, median first response
    # of the two answered 5.5 minutes
    assert desk.desk is not None and desk.desk.conversations == 3
    assert (desk.desk.first_contact_resolved, desk.desk.resolved) == (2, 2)
    assert desk.desk.first_response_median_seconds == pytest.approx(330)


def test_the_service_desk_tile_follows_the_country_filter(
    db_session: Session, world: Tenant
) -> None:
    # given Bram (whose chat was answered late) in Poland
    _update_profile(db_session, world, "bram@example.nl", CustomerPatch(country="PL"))
    # when the tile is computed for Poland
    filters = resolve_overview_filters(period="30d", today=TODAY, country="PL")
    desk = compute_service_desk(db_session, org_id=world.org_id, filters=filters, now=NOW)
    # then only Bram's chat counts: its first response late, resolved at first contact
    assert (desk.sla.first_response_met, desk.sla.first_response_decided) == (0, 1)
    assert desk.desk is not None and desk.desk.conversations == 1
    assert desk.desk.first_response_median_seconds == pytest.approx(600)
    # and for the Netherlands nothing does
    dutch = resolve_overview_filters(period="30d", today=TODAY, country="NL")
    nobody = compute_service_desk(db_session, org_id=world.org_id, filters=dutch, now=NOW)
    assert nobody.sla.first_response_decided == 0 and nobody.desk is None


def test_the_feelings_tile_shows_shares_score_and_weekly_trend(
    db_session: Session, world: Tenant
) -> None:
    feelings = compute_feelings(db_session, org_id=world.org_id, filters=FILTERS, now=NOW)
    # then five texts: the complaint, the praise, a passive comment and the two chats' "..."
    period = feelings.period
    assert period is not None and period.texts == 5
    assert (period.negative, period.neutral, period.positive) == (1, 3, 1)
    assert period.negative_share == pytest.approx(0.2)
    # and the trend has one entry per week: the chats two weeks ago, today's texts this week
    assert len(feelings.weeks) == len(feelings.week_starts) >= 13
    weeks = dict(zip(feelings.week_starts, feelings.weeks, strict=True))
    this_week = TODAY - timedelta(days=TODAY.weekday())
    chats_week = weeks.pop(TUESDAY - timedelta(days=1))
    assert chats_week is not None and (chats_week.texts, chats_week.neutral) == (2, 2)
    assert weeks.pop(this_week).texts == 3  # type: ignore[union-attr]
    assert all(week is None for week in weeks.values())


def test_the_feelings_tile_follows_the_country_and_segment_filters(
    db_session: Session, world: Tenant
) -> None:
    # given Anna (whose chat is one of the texts) in the Netherlands and segment loyal
    _update_profile(
        db_session, world, "anna@example.nl", CustomerPatch(country="NL", segments=["loyal"])
    )

    def texts(**chosen: str) -> int:
        filters = resolve_overview_filters(period="30d", today=TODAY, **chosen)
        period = compute_feelings(db_session, org_id=world.org_id, filters=filters, now=NOW).period
        return 0 if period is None else period.texts

    # then a filter keeps only the texts of its customers: Anna's chat
    assert texts() == 5
    assert texts(country="NL") == 1
    assert texts(segment="loyal") == 1
    assert texts(country="PL") == 0
    assert texts(country="NL", segment="vip") == 0


def test_the_pain_points_tile_ranks_the_failing_checkout(
    db_session: Session, world: Tenant
) -> None:
    top = compute_top_pain_points(db_session, org_id=world.org_id, filters=FILTERS, now=NOW)
    # then only the checkout hurts (one error of two customers); the home page does not
    assert [p.name for p in top.pain_points] == ["Checkout"]
    checkout = top.pain_points[0]
    assert (checkout.reach, checkout.negatives, checkout.score) == (2, 1, 100.0)
    # and its CSV row says the same
    table = compute_overview_chart(
        db_session,
        org_id=world.org_id,
        filters=FILTERS,
        section_key="pain-points",
        chart_key="pain-points",
        now=NOW,
    )
    assert table.rows == [[1, checkout.touchpoint_id, "Checkout", "purchase", 100.0, 2, 1]]


def test_the_pain_points_tile_follows_the_country_filter(
    db_session: Session, world: Tenant
) -> None:
    # given Bram, whose checkout failed, in Poland (Anna has no country)
    _update_profile(db_session, world, "bram@example.nl", CustomerPatch(country="PL"))

    def top(**chosen: str) -> list[tuple[str, int, int]]:
        filters = resolve_overview_filters(period="30d", today=TODAY, **chosen)
        found = compute_top_pain_points(db_session, org_id=world.org_id, filters=filters, now=NOW)
        return [(p.name, p.reach, p.negatives) for p in found.pain_points]

    # then the Polish ranking has the checkout with Bram alone; a Dutch one has no pain point
    assert top() == [("Checkout", 2, 1)]
    assert top(country="PL") == [("Checkout", 1, 1)]
    assert top(country="NL") == []


def test_the_page_shows_the_three_tiles_with_their_figures_and_links(
    client: TestClient, world: Tenant
) -> None:
    login(client, world.admin_email)

    def tiles(**params: str) -> tuple[str, str, str]:
        page = client.get("/", params={"period": "30d", **params}).text
        return tuple(  # type: ignore[return-value]
            page.split(f'id="section-{key}"')[1].split("</section>")[0]
            for key in ("service-desk", "feelings", "pain-points")
        )

    # when the overview is opened
    desk, feelings, pains = tiles()
    # then each tile shows its figures and links to its page
    assert 'id="stat-sla-first-response">50%' in desk and "(1 of 2)" in desk
    assert 'id="stat-sla-resolution">100%' in desk and 'id="stat-fcr">100%' in desk
    assert 'id="stat-first-response">6 min' in desk
    assert 'href="/sla/attainment"' in desk and 'href="/service-desk/report"' in desk
    assert 'id="stat-negative-share">20%' in feelings and 'href="/feedback/feelings"' in feelings
    assert "Checkout" in pains and 'href="/journeys/pain-points"' in pains
    # when it is opened for the Netherlands, where none of these customers live
    desk, feelings, pains = tiles(country="NL")
    # then every tile follows the filter and says so
    for tile in (desk, feelings, pains):
        assert "of the chosen customers" in tile
    assert "(1 of 2)" not in desk
    assert 'id="stat-negative-share">—' in feelings
    assert "Checkout" not in pains
    assert 'href="/journeys/pain-points?country=NL&amp;segment="' in pains
    # and the SLA chart downloads as CSV
    csv = client.get("/overview/charts/service-desk/sla-per-week.csv", params={"period": "30d"})
    assert csv.status_code == 200
    assert csv.text.splitlines()[1].startswith(f"{TUESDAY - timedelta(days=1)},0.5,1,2,1.0,2,2")
