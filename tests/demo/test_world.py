"""The demo world: reproducible, loadable through the services, and telling its planted story."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.commerce import service as commerce_service
from opencx.commerce.models import Delivery, DeliveryStatusChange, Order, OrderLine, Payment
from opencx.conversations.routing import service as routing_service
from opencx.customers import service as customers_service
from opencx.customers.models import ConsentRecord, Customer, IdentityKind
from opencx.demo.catalog import CAMPAIGN_SKU, DEMO_PASSWORD, DEMO_USERS
from opencx.demo.load import load_world
from opencx.demo.world import CUSTOMER_NAMESPACE, DemoWorld, build_world
from opencx.journeys.models import Event

# A fixed day in the past: the same world on every run, and nothing in the services' future.
TODAY = date(2025, 11, 22)
SEED = 7
CUSTOMERS = 300


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return build_world(customers=CUSTOMERS, seed=SEED, today=TODAY)


def monday(moment: datetime | date) -> date:
    day = moment.date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def campaign_weeks(world: DemoWorld) -> list[date]:
    start = monday(world.campaign.start)
    return [start + timedelta(weeks=n) for n in range(4)]


def lento_orders(world: DemoWorld) -> set[str]:
    return {
        o.row["external_id"]
        for o in world.orders
        if any(line["sku"] == CAMPAIGN_SKU for line in o.row["lines"])
    }


def test_the_same_seed_builds_the_same_world(world: DemoWorld) -> None:
    # given the world of seed 7
    # when it is built again with the same seed and day, and once with another seed
    again = build_world(customers=CUSTOMERS, seed=SEED, today=TODAY)
    other = build_world(customers=CUSTOMERS, seed=SEED + 1, today=TODAY)
    # then the same seed gives the same customers, orders and events, another seed does not
    assert again.customers == world.customers
    assert again.orders == world.orders
    assert again.events == world.events
    assert [c["last_name"] for c in other.customers[:10]] != [
        c["last_name"] for c in world.customers[:10]
    ]


def test_the_world_covers_countries_languages_channels_and_stages(world: DemoWorld) -> None:
    # given the world
    # then customers come from all four countries, in their languages, with varied names
    assert {c["country"] for c in world.customers} == {"NL", "BE", "PL", "GB"}
    languages = Counter((c["country"], c["language"]) for c in world.customers)
    assert set(languages) == {("NL", "nl"), ("BE", "nl"), ("BE", "en"), ("PL", "pl"), ("GB", "en")}
    assert len({c["last_name"] for c in world.customers}) > CUSTOMERS / 3
    # and segments, withdrawn consent and anonymous visits exist
    segments = Counter(s for c in world.customers for s in c["segments"])
    assert {"new", "loyal", "vip", "at-risk", "b2b"} <= set(segments)
    assert any(r["status"] == "withdrawn" for c in world.customers for r in c["consents"])
    assert any(e.customer is None and e.anonymous_id for e in world.events)
    # and every touchpoint, order channel and device is used, and nothing lies in the future
    assert {e.touchpoint for e in world.events} == {t["key"] for t in world.touchpoints}
    assert {o.row["channel"] for o in world.orders} == {"web", "app", "store", "phone"}
    assert {"desktop", "mobile", "tablet", "in-store"} <= {e.device for e in world.events}
    end = datetime.combine(TODAY, time(), tzinfo=UTC)
    assert max(e.timestamp for e in world.events) < end
    assert 3 <= len(world.orders) / CUSTOMERS <= 4


def test_the_campaign_lifts_units_of_its_product(world: DemoWorld) -> None:
    # given units of the campaign product sold per week
    units: Counter[date] = Counter()
    for order in world.orders:
        for line in order.row["lines"]:
            if line["sku"] == CAMPAIGN_SKU:
                units[monday(order.row["placed_at"])] += line["quantity"]
    # then campaign weeks sell more than twice the baseline of the other weeks
    during = campaign_weeks(world)
    baseline = [n for week, n in units.items() if week not in during]
    per_week_baseline = sum(baseline) / 48
    assert sum(units[w] for w in during) / 4 > 2 * per_week_baseline
    # and the campaign shows in ad clicks and newsletters carrying its key
    tagged = Counter(e.type for e in world.events if e.properties.get("campaign"))
    assert tagged["ad_click"] > 0 and tagged["newsletter_click"] > 0


def test_deliveries_of_the_campaign_product_run_late_after_the_campaign(
    world: DemoWorld,
) -> None:
    # given deliveries promised in the weeks after the campaign's second week
    lento = lento_orders(world)
    late = {True: [0, 0], False: [0, 0]}  # is a Lento order: [late, all]
    for order in world.orders:
        for delivery in order.row["deliveries"]:
            promised = delivery["promised_at"].date()
            if not world.campaign.late_from <= promised < world.campaign.late_until:
                continue
            delivered = [
                h["occurred_at"] for h in delivery["status_history"] if h["status"] == "delivered"
            ]
            is_lento = order.row["external_id"] in lento and delivery["carrier"].startswith(
                "Noordwind"
            )
            late[is_lento][0] += bool(delivered and delivered[0] > delivery["promised_at"])
            late[is_lento][1] += 1
    # then most Lento deliveries are late, and few others
    lento_share = late[True][0] / late[True][1]
    other_share = late[False][0] / late[False][1]
    assert lento_share > 0.5
    assert lento_share > 4 * other_share


def test_complaints_and_bad_reviews_about_the_product_rise(world: DemoWorld) -> None:
    # given complaint events and reviews of the campaign product, per period
    after = world.campaign.late_from
    until = world.campaign.late_until + timedelta(weeks=3)

    def count(kind: str, low_rating: bool, start: date, end: date) -> int:
        return sum(
            1
            for e in world.events
            if e.type == kind
            and e.properties.get("sku") == CAMPAIGN_SKU
            and start <= e.timestamp.date() < end
            and (not low_rating or e.properties["rating"] <= 2)
        )

    weeks_after = (until - after).days / 7
    before = world.campaign.start - timedelta(weeks=20)
    weeks_before = (world.campaign.start - before).days / 7
    # then complaints and bad reviews per week are far above what they were before
    for kind, low in (("complaint", False), ("review", True)):
        count_after = count(kind, low, after, until)
        rate_before = count(kind, low, before, world.campaign.start) / weeks_before
        assert count_after >= 5, kind
        assert count_after / weeks_after > 3 * rate_before, kind
    # and they are written in all three languages
    languages = {
        e.properties["language"]
        for e in world.events
        if e.type in ("complaint", "review") and e.properties.get("sku") == CAMPAIGN_SKU
    }
    assert languages == {"nl", "pl", "en"}


def test_customer_texts_are_varied_in_three_languages(world: DemoWorld) -> None:
    # given the texts customers wrote
    texts = [e for e in world.events if "text" in e.properties]
    # then every kind of written contact is there, in Dutch, Polish and English
    assert {e.type for e in texts} == {
        "complaint", "review", "contact_form_submitted", "chat_started", "social_mention",
    }  # fmt: skip
    assert {e.properties["language"] for e in texts} == {"nl", "pl", "en"}
    # and complaints are not one template repeated
    complaints = [e.properties["text"] for e in texts if e.type == "complaint"]
    assert len(complaints) > 20
    assert len(set(complaints)) / len(complaints) > 0.8
    # and reviews carry a rating from 1 to 5 and say something
    ratings = Counter(e.properties["rating"] for e in texts if e.type == "review")
    assert set(ratings) == {1, 2, 3, 4, 5}
    reviews = [e.properties["text"] for e in texts if e.type == "review"]
    assert len(set(reviews)) / len(reviews) > 0.8


def count_rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_world_loads_through_the_services(db_session: Session, world: DemoWorld) -> None:
    # given an empty installation
    # when the world is loaded
    report = load_world(world)
    # then every customer, order and event is stored
    assert count_rows(db_session, Customer) == len(world.customers) == report.rows["customers"]
    assert count_rows(db_session, Order) == len(world.orders)
    assert count_rows(db_session, OrderLine) == sum(len(o.row["lines"]) for o in world.orders)
    assert count_rows(db_session, Payment) == sum(len(o.row["payments"]) for o in world.orders)
    assert count_rows(db_session, Delivery) == sum(len(o.row["deliveries"]) for o in world.orders)
    assert count_rows(db_session, DeliveryStatusChange) == sum(
        len(d["status_history"]) for o in world.orders for d in o.row["deliveries"]
    )
    assert count_rows(db_session, ConsentRecord) == sum(len(c["consents"]) for c in world.customers)
    assert count_rows(db_session, Event) == len(world.events) == report.rows["events"]
    # and the first customers are the world's first customers
    org_id = report.org_id
    for row in world.customers[:5]:
        number = row["attributes"]["customer_number"]
        customer_id = customers_service.find_customer_id(
            db_session, org_id=org_id, kind=IdentityKind.external, value=number,
            namespace=CUSTOMER_NAMESPACE,
        )  # fmt: skip
        assert customer_id is not None
        stored = customers_service.get_customer(db_session, org_id=org_id, customer_id=customer_id)
        assert (stored.first_name, stored.last_name, stored.city) == (
            row["first_name"], row["last_name"], row["city"],
        )  # fmt: skip
    # and there is a user of every role, who can sign in with the demo password
    users = auth_service.list_users(db_session, org_id=org_id)
    assert {u.role for u in users} == set(Role)
    user = auth_service.authenticate_user(
        db_session, email=DEMO_USERS[0][0], password=DEMO_PASSWORD, client_ip="test",
        max_failures=5, window_minutes=15,
    )  # fmt: skip
    assert user is not None
    # and the service teams route by language: the Polish agents speak Polish, in service-pl
    agents = {a.name: a for a in routing_service.list_agents(db_session, org_id=org_id)}
    assert agents["Tomasz Wróbel"].languages == ["pl", "en"]
    assert agents["Tomasz Wróbel"].teams == ["service-pl"]
    assert agents["Tomasz Wróbel"].capacity["chat"] == 3
    assert agents["Katarzyna Zielińska"].skills == ["complaint", "escalation"]
    teams = routing_service.list_teams(db_session, org_id=org_id)
    assert [(t.name, len(t.members), t.is_default) for t in teams] == [
        ("service-nl", 3, False), ("service-pl", 3, False), ("service-uk", 2, True),
    ]  # fmt: skip
    # and the services' weekly units report shows the campaign
    start = datetime.combine(TODAY - timedelta(days=365), time(), tzinfo=UTC)
    units = commerce_service.units_sold_per_product_per_week(
        db_session, org_id=org_id, start=start, end=datetime.combine(TODAY, time(), tzinfo=UTC)
    )
    lento = {row.week_start: row.units for row in units if row.sku == CAMPAIGN_SKU}
    during = sum(lento.get(w, 0) for w in campaign_weeks(world)) / 4
    baseline = sum(n for w, n in lento.items() if w not in campaign_weeks(world)) / 48
    assert during > 2 * baseline
    # and most late deliveries promised after the campaign's second week are Lento orders
    late = commerce_service.list_late_deliveries(
        db_session, org_id=org_id,
        start=datetime.combine(world.campaign.late_from, time(), tzinfo=UTC),
        end=datetime.combine(world.campaign.late_until, time(), tzinfo=UTC),
    )  # fmt: skip
    assert sum(d.order_external_id in lento_orders(world) for d in late) > len(late) / 2
