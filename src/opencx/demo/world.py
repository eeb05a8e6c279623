"""The demo world: a year of Noordwind Home & Living's customers, orders and journeys, in memory.

`build_world` simulates each customer in turn (sign-up, visits, orders, deliveries, service
contacts, reviews, consent changes) with one `random.Random(seed)`, so one seed on one day gives
the same world. Nothing here touches the database; `opencx.demo.load` hands the world to the
domain services.

The planted story (docs/demo.md): a campaign about five months ago sells far more Lento sofas;
from two weeks after its start, Lento deliveries run late, and complaints and bad reviews follow.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from opencx.demo import texts
from opencx.demo.catalog import (
    CAMPAIGN_SKU,
    CATALOG,
    COUNTRY_WEIGHTS,
    CURRENCY,
    FURNITURE_CARRIER,
    PARCEL_CARRIERS,
    PAYMENT_METHODS,
    PRODUCTS,
    SERVICE_ASSEMBLY,
    SERVICE_DESIGN,
    SERVICE_PICKUP,
    SERVICE_WARRANTY,
    SERVICES,
    STORE_CITY,
    STORE_PAYMENT_METHODS,
    STORES,
    TOUCHPOINTS,
    CatalogItem,
    local_price,
)
from opencx.demo.conversations import DemoConversation, plan_conversations
from opencx.demo.feedback import DemoInvitation, plan_feedback
from opencx.demo.people import (
    COMPANY_NAMES,
    Person,
    make_email,
    make_person,
    make_phone,
    make_social_handle,
)

DAYS = 365
CENT = Decimal("0.01")
CUSTOMER_NAMESPACE = "noordwind-shop"
# Share of customers the campaign brings to buy a Lento sofa (on top of their usual orders).
CAMPAIGN_BUYER_SHARE = 0.045
CAMPAIGN_DISCOUNT = Decimal("0.80")
CAMPAIGN_WEEKS = 4
# Lento deliveries promised in this many days from two weeks after the campaign start run late.
LATE_WINDOW_DAYS = 35
LATE_SHARE_STORY = 0.75
LATE_SHARE_PARCEL = 0.05
LATE_SHARE_BULKY = 0.08

ORDER_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
ORDER_COUNT_WEIGHTS = (12, 15, 16, 14, 12, 10, 8, 6, 4, 3)
# Hours of the day (UTC) people shop online, visit stores, call: evenings online, daytime stores.
ONLINE_HOURS = (2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 4, 5, 5, 4, 4, 5, 6, 7, 8, 9, 8, 6, 4)
STORE_HOURS = (0,) * 9 + (3, 5, 6, 7, 7, 7, 7, 6, 5, 3) + (0,) * 5
OFFICE_HOURS = (0,) * 8 + (5, 7, 7, 6, 5, 6, 6, 5, 4, 2) + (0,) * 6
SEASON = {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring",
          6: "Summer", 7: "Summer", 8: "Summer", 9: "Autumn", 10: "Autumn", 11: "Autumn"}  # fmt: skip
MONTH_WEIGHT = {1: 1.15, 2: 0.85, 3: 0.95, 4: 1.0, 5: 1.0, 6: 0.9,
                7: 0.85, 8: 0.9, 9: 1.0, 10: 1.05, 11: 1.2, 12: 1.45}  # fmt: skip
WEEKDAY_WEIGHT = (1.1, 1.0, 1.0, 1.0, 1.05, 1.2, 1.3)
UTM_SOURCES = {"search-ad": ("google", "bing"), "social-ad": ("meta", "tiktok", "pinterest")}
DELAY_NOTES = (
    "Carrier capacity: delivery moved to a later route",
    "Address not reached in the delivery window",
    "Parcel missed its connection at the hub",
    "Storm warning: routes suspended",
)
STORY_DELAY_NOTE = "Supplier backlog: Lento frames not in stock, delivery rescheduled"


@dataclass(frozen=True)
class Campaign:
    """The marketing campaign of the planted story."""

    key: str
    name: str
    sku: str
    start: date
    end: date  # exclusive
    late_from: date  # Lento deliveries promised from here ...
    late_until: date  # ... until here (exclusive) mostly run late


class DemoOrder(NamedTuple):
    customer: int  # position in DemoWorld.customers; the load maps it to the stored id
    row: dict[str, Any]  # an import_orders row without customer_id


class DemoEvent(NamedTuple):
    timestamp: datetime
    customer: int | None  # position in DemoWorld.customers, or None for an anonymous visitor
    anonymous_id: str | None
    session_id: str | None
    touchpoint: str
    type: str
    device: str | None
    properties: dict[str, Any]


@dataclass
class DemoWorld:
    seed: int
    today: date
    campaign: Campaign
    products: list[dict[str, Any]]
    touchpoints: list[dict[str, Any]]
    customers: list[dict[str, Any]]  # import_customers rows
    orders: list[DemoOrder]
    events: list[DemoEvent]
    # Survey invitations and answers, planned after the world (opencx.demo.feedback).
    feedback: list[DemoInvitation] = field(default_factory=list)
    # Service desk conversations, planned after the surveys (opencx.demo.conversations), and the
    # channel identities (web chat visitors, Telegram and social accounts) they need.
    conversations: list[DemoConversation] = field(default_factory=list)
    channel_identities: dict[int, list[dict[str, str]]] = field(default_factory=dict)


@dataclass
class _Shopper:
    """One customer while being simulated."""

    index: int
    person: Person
    writer: texts.Writer
    currency: str
    number: str
    b2b: bool
    signup_at: datetime
    device: str
    app_user: bool
    home_store: str | None
    store_affinity: float
    club_member: bool
    marketing_email_from: datetime | None
    marketing_email_until: datetime | None = None
    orders: int = 0
    spent_eur: Decimal = Decimal(0)
    last_order_at: datetime | None = None
    unhappy_at: datetime | None = None  # the last time something went badly wrong
    channels: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class _Delivery:
    """What happened to one shipment: the world decides, the texts and events follow."""

    items: list[CatalogItem]
    promised_at: datetime
    delivered_at: datetime | None
    days_late: int
    story: bool
    returned_at: datetime | None


def _first_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _black_friday(year: int) -> date:
    return _first_weekday(year, 11, 3) + timedelta(days=22)  # fourth Thursday, then Friday


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)


def make_campaign(today: date) -> Campaign:
    """The campaign: four weeks from the first Monday of the month five months before today."""
    first = _months_before(today, 5)
    start = _first_weekday(first.year, first.month, 0)
    season = SEASON[start.month]
    late_from = start + timedelta(days=14)
    return Campaign(
        key=f"{season.lower()}-living-sale-{start.year}",
        name=f"{season} Living Sale",
        sku=CAMPAIGN_SKU,
        start=start,
        end=start + timedelta(weeks=CAMPAIGN_WEEKS),
        late_from=late_from,
        late_until=late_from + timedelta(days=LATE_WINDOW_DAYS),
    )


def _cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


# Of completed online checkouts, the share that hit an error first, by device ("app": the app).
CHECKOUT_ERROR_RATE = {"mobile": 0.06, "desktop": 0.025, "tablet": 0.04, "app": 0.02}
CHECKOUT_ERRORS = (
    ("payment_failed", "card_declined"),
    ("payment_failed", "3ds_timeout"),
    ("checkout_error", "address_not_found"),
    ("checkout_error", "postcode_invalid"),
)


class _WorldBuilder:
    def __init__(self, seed: int, customers: int, today: date) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        # Checkout errors draw from their own stream, so adding them left the rest of the
        # world (customers, orders, the planted story) as it was for the same seed.
        self.checkout_rng = random.Random(seed * 7919 + 1)
        self.customer_count = customers
        self.today = today
        self.end = datetime.combine(today, time(), tzinfo=UTC)
        self.start = self.end - timedelta(days=DAYS)
        self.start_day = self.start.date()
        self.campaign = make_campaign(today)
        self.customers: list[dict[str, Any]] = []
        self.writers: list[texts.Writer] = []  # per customer, for their survey answers
        self.orders: list[DemoOrder] = []
        self.events: list[DemoEvent] = []
        self.spend: list[Decimal] = []
        self.taken_emails: set[str] = set()
        self.taken_phones: set[str] = set()
        self.taken_handles: set[str] = set()
        self.taken_orders: set[str] = set()
        self._day_weights()
        self.product_cum = _cumulative([p.popularity for p in PRODUCTS])
        self.hours = {
            "online": _cumulative(ONLINE_HOURS),
            "store": _cumulative(STORE_HOURS),
            "office": _cumulative(OFFICE_HOURS),
        }
        self.newsletters = self._newsletter_issues()

    # -- calendar -------------------------------------------------------------------------------

    def _day_weights(self) -> None:
        weights = []
        black_fridays = {_black_friday(y) for y in (self.start_day.year, self.today.year)}
        for offset in range(DAYS):
            day = self.start_day + timedelta(days=offset)
            weight = MONTH_WEIGHT[day.month] * WEEKDAY_WEIGHT[day.weekday()]
            for friday in black_fridays:
                if -1 <= (day - friday).days <= 3:  # Thursday evening to Cyber Monday
                    weight *= 3.5
                elif -8 <= (day - friday).days < -1:
                    weight *= 1.4
            if day.month == 12 and day.day >= 22:
                weight *= 0.5  # shops are quiet between Christmas and New Year
            weights.append(weight)
        self.day_weights = weights
        self.day_cum = [0.0, *_cumulative(weights)]
        self.black_fridays = black_fridays

    def _day(self, lo: int, hi: int) -> int:
        """A day offset in [lo, hi), busier days more likely."""
        lo, hi = max(lo, 0), min(hi, DAYS)
        if hi <= lo:
            return min(max(lo, 0), DAYS - 1)
        u = self.day_cum[lo] + self.rng.random() * (self.day_cum[hi] - self.day_cum[lo])
        return min(max(bisect.bisect_right(self.day_cum, u) - 1, lo), hi - 1)

    def _moment(self, day: int, hours: str) -> datetime:
        hour = bisect.bisect_right(self.hours[hours], self.rng.random() * self.hours[hours][-1])
        return self.start + timedelta(
            days=day, hours=min(hour, 23), seconds=self.rng.randrange(3600)
        )

    def _offset(self, moment: datetime) -> int:
        return (moment - self.start).days

    def _newsletter_issues(self) -> list[tuple[datetime, str, str | None]]:
        """(sent at, issue, campaign key) of every newsletter in the year."""
        issues: list[tuple[datetime, str, str | None]] = []
        month = date(self.start_day.year, self.start_day.month, 1)
        while month < self.today:
            tuesday = _first_weekday(month.year, month.month, 1)
            sent = datetime.combine(tuesday, time(7), tzinfo=UTC)
            if self.start <= sent < self.end:
                issues.append((sent, f"{tuesday:%Y-%m}", None))
            month = _months_before(month, -1)
        for offset in (0, 10):
            sent = datetime.combine(
                self.campaign.start + timedelta(days=offset), time(7), tzinfo=UTC
            )
            issues.append((sent, f"{self.campaign.key}-{offset // 10 + 1}", self.campaign.key))
        issues.sort()
        return issues

    # -- output ---------------------------------------------------------------------------------

    def _event(
        self,
        at: datetime,
        shopper: _Shopper | None,
        touchpoint: str,
        type_: str,
        *,
        device: str | None = None,
        session: str | None = None,
        anonymous_id: str | None = None,
        **properties: Any,
    ) -> None:
        if at >= self.end:
            return  # the world ends today; the future has not happened yet
        self.events.append(
            DemoEvent(
                at,
                shopper.index if shopper else None,
                anonymous_id,
                session,
                touchpoint,
                type_,
                device,
                properties,
            )
        )

    def _session_id(self) -> str:
        return f"s-{self.rng.getrandbits(64):016x}"

    # -- customers ------------------------------------------------------------------------------

    def build(self) -> DemoWorld:
        countries = list(COUNTRY_WEIGHTS)
        country_cum = _cumulative(list(COUNTRY_WEIGHTS.values()))
        for index in range(self.customer_count):
            country = self.rng.choices(countries, cum_weights=country_cum)[0]
            self._simulate_customer(index, country)
        self._mark_vips()
        for _ in range(self.customer_count // 2):
            self._anonymous_visitor()
        self.events.sort(key=lambda e: e.timestamp)
        world = DemoWorld(
            seed=self.seed,
            today=self.today,
            campaign=self.campaign,
            products=[
                {
                    "sku": item.sku,
                    "name": item.name,
                    "kind": item.kind,
                    "category": item.category,
                    "price": item.price_eur,
                    "currency": "EUR",
                }
                for item in (*PRODUCTS, *SERVICES)
            ],
            touchpoints=[
                {
                    "key": t.key,
                    "name": t.name,
                    "stage": t.stage,
                    "channel": t.channel,
                    "is_online": t.is_online,
                    "department": t.department,
                }
                for t in TOUCHPOINTS
            ],
            customers=self.customers,
            orders=self.orders,
            events=self.events,
        )
        world.feedback = plan_feedback(world, self.writers)
        world.conversations, world.channel_identities = plan_conversations(world, self.writers)
        return world

    def _simulate_customer(self, index: int, country: str) -> None:
        rng = self.rng
        person = make_person(rng, country)
        b2b = rng.random() < 0.04
        existing = rng.random() < 0.4
        campaign_buyer = rng.random() < CAMPAIGN_BUYER_SHARE
        campaign_lo = (self.campaign.start - self.start_day).days
        campaign_hi = (self.campaign.end - self.start_day).days
        if existing:
            signup_at = self.start - timedelta(
                days=rng.randint(20, 1500), seconds=rng.randrange(86400)
            )
        else:
            signup_day = self._day(0, DAYS)
            if campaign_buyer and signup_day >= campaign_hi:
                signup_day = rng.randrange(campaign_lo, campaign_hi)  # the campaign won them
            signup_at = self._moment(signup_day, "online")
        home_store, affinity = self._home_store(person)
        marketing = rng.random() < (0.55 if not b2b else 0.3)
        shopper = _Shopper(
            index=index,
            person=person,
            writer=texts.Writer(person.language, person.first_name, person.gender),
            currency=CURRENCY[country],
            number=f"NW{100001 + index}",
            b2b=b2b,
            signup_at=signup_at,
            device=rng.choices(("desktop", "mobile", "tablet"), weights=(50, 40, 10))[0],
            app_user=rng.random() < (0.45 if country == "PL" else 0.33),
            home_store=home_store,
            store_affinity=affinity,
            club_member=rng.random() < 0.4,
            marketing_email_from=signup_at if marketing else None,
        )
        shopper.channels = [
            ("web", 55.0),
            ("app", 35.0 if shopper.app_user else 3.0),
            ("store", affinity * 100 if home_store else 0.0),
            ("phone", 20.0 if b2b else 5.0),
        ]
        if not existing:
            self._before_signup(shopper)
        signup_day = self._offset(signup_at)
        lo = max(signup_day, 0)
        prospect = rng.random() < 0.07 and not campaign_buyer
        order_count = 0 if prospect else rng.choices(ORDER_COUNTS, weights=ORDER_COUNT_WEIGHTS)[0]
        if b2b and order_count:
            order_count += rng.randint(1, 4)
        if not existing and order_count:
            order_count = max(1, round(order_count * ((DAYS - lo) / DAYS) ** 0.4))
        active_until = DAYS if rng.random() > 0.15 else self._day(min(lo + 30, DAYS - 1), 300)
        days = sorted(self._day(lo, max(active_until, lo + 1)) for _ in range(order_count))
        if days and not existing and rng.random() < 0.6:
            days[0] = lo  # many buy on the day they sign up
        plan = [(day, False) for day in days]
        if campaign_buyer:
            plan.append((rng.randrange(max(lo, campaign_lo), campaign_hi), True))
            plan.sort()
        for day, from_campaign in plan:
            if shopper.unhappy_at and rng.random() < 0.35:
                break  # a bad experience drives some customers away for good
            self._order(shopper, day, from_campaign)
        self._campaign_exposure(shopper, campaign_lo, campaign_hi)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            self._browse(shopper, self._day(lo, max(active_until, lo + 1)))
        consents = self._consents(shopper)
        self._newsletters(shopper)
        self.customers.append(self._customer_row(shopper, consents))
        self.writers.append(shopper.writer)
        self.spend.append(shopper.spent_eur)

    def _home_store(self, person: Person) -> tuple[str | None, float]:
        stores = STORES[person.country]
        local = [s for s in stores if STORE_CITY[s] == person.city]
        if local:
            return local[0], 0.45
        if person.country == "BE" and person.language == "en":
            return self.rng.choice(stores), 0.05
        return self.rng.choice(stores), 0.12

    def _identities(self, shopper: _Shopper) -> list[dict[str, str]]:
        rng, person = self.rng, shopper.person
        identities = [
            {"kind": "external", "namespace": CUSTOMER_NAMESPACE, "value": shopper.number}
        ]
        if shopper.b2b or rng.random() < 0.96:
            email = make_email(rng, person, self.taken_emails)
            identities.append({"kind": "email", "namespace": "", "value": email})
        if rng.random() < 0.7:
            phone = make_phone(rng, person.country, self.taken_phones)
            identities.append({"kind": "phone", "namespace": "", "value": phone})
        if rng.random() < 0.25:
            network = rng.choices(("instagram", "facebook", "x"), weights=(60, 30, 10))[0]
            handle = make_social_handle(rng, person, self.taken_handles)
            identities.append({"kind": "social", "namespace": network, "value": handle})
        return identities

    def _consents(self, shopper: _Shopper) -> list[dict[str, Any]]:
        """The consent history: choices at sign-up, later withdrawals (more after bad service)."""
        rng = self.rng
        signup = shopper.signup_at
        records = [("service", "any", "granted", signup, "account sign-up")]
        if shopper.marketing_email_from:
            records.append(("marketing", "email", "granted", signup, "newsletter checkbox"))
            chance = 0.35 if shopper.unhappy_at else 0.07
            if rng.random() < chance:
                after = shopper.unhappy_at or signup
                until = after + timedelta(days=rng.uniform(1, 40))
                if until < self.end:
                    shopper.marketing_email_until = until
                    records.append(("marketing", "email", "withdrawn", until, "unsubscribe link"))
        if rng.random() < 0.18:
            records.append(("marketing", "sms", "granted", signup, "account sign-up"))
        if shopper.person.country == "NL" and rng.random() < 0.12:
            records.append(("marketing", "whatsapp", "granted", signup, "whatsapp opt-in"))
        if rng.random() < 0.55:
            records.append(("surveys", "email", "granted", signup, "account sign-up"))
            if rng.random() < 0.06:
                at = signup + timedelta(days=rng.uniform(10, 300))
                if at < self.end:
                    records.append(("surveys", "email", "withdrawn", at, "preference centre"))
        analytics = signup - timedelta(minutes=rng.randint(1, 30))
        if rng.random() < 0.7:
            records.append(("analytics", "web", "granted", analytics, "cookie banner"))
            if rng.random() < 0.05:
                at = signup + timedelta(days=rng.uniform(5, 200))
                if at < self.end:
                    records.append(("analytics", "web", "withdrawn", at, "cookie settings"))
        else:
            records.append(("analytics", "web", "withdrawn", analytics, "cookie banner"))
        if rng.random() < 0.33:
            records.append(("profiling", "any", "granted", signup, "personal offers opt-in"))
        return [
            {"purpose": p, "channel": c, "status": s, "occurred_at": at, "source": src}
            for p, c, s, at, src in records
        ]

    def _customer_row(self, shopper: _Shopper, consents: list[dict[str, Any]]) -> dict[str, Any]:
        person = shopper.person
        segments: list[str] = []
        if shopper.b2b:
            segments.append("b2b")
        if shopper.signup_at >= self.end - timedelta(days=90):
            segments.append("new")
        if shopper.orders == 0:
            segments.append("prospect")
        recent = shopper.last_order_at and shopper.last_order_at >= self.end - timedelta(days=120)
        if shopper.orders >= 4 and recent:
            segments.append("loyal")
        lapsed = shopper.last_order_at and shopper.last_order_at < self.end - timedelta(days=180)
        unhappy_since = shopper.unhappy_at and (
            shopper.last_order_at is None or shopper.last_order_at <= shopper.unhappy_at
        )
        if "new" not in segments and (
            (shopper.orders >= 2 and lapsed) or (shopper.orders and unhappy_since)
        ):
            segments.append("at-risk")
        attributes: dict[str, Any] = {
            "customer_number": shopper.number,
            "signed_up_on": shopper.signup_at.date().isoformat(),
            "club_member": shopper.club_member,
        }
        if shopper.home_store:
            attributes["preferred_store"] = shopper.home_store
        if shopper.b2b:
            attributes["company"] = self.rng.choice(COMPANY_NAMES[person.country])
        return {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "language": person.language,
            "country": person.country,
            "city": person.city,
            "segments": segments,
            "attributes": attributes,
            "identities": self._identities(shopper),
            "consents": consents,
        }

    def _mark_vips(self) -> None:
        if not self.spend:
            return
        ranked = sorted(self.spend, reverse=True)
        threshold = ranked[max(0, len(ranked) // 20 - 1)]
        for row, spent in zip(self.customers, self.spend, strict=True):
            if spent > 0 and spent >= threshold:
                row["segments"].append("vip")

    # -- visits ---------------------------------------------------------------------------------

    def _web_device(self, shopper: _Shopper | None, app: bool = False) -> str:
        if app:
            return "mobile" if self.rng.random() < 0.85 else "tablet"
        if shopper and self.rng.random() < 0.75:
            return shopper.device
        return self.rng.choices(("desktop", "mobile", "tablet"), weights=(45, 45, 10))[0]

    def _random_product(self) -> CatalogItem:
        return self.rng.choices(PRODUCTS, cum_weights=self.product_cum)[0]

    def _awareness(
        self,
        at: datetime,
        shopper: _Shopper | None,
        device: str,
        session: str,
        anon: str | None,
        campaign: str | None = None,
        sku: str | None = None,
    ) -> None:
        rng = self.rng
        roll = rng.random()
        props: dict[str, Any] = {"sku": sku or self._random_product().sku}
        if campaign:
            props["campaign"] = campaign
        if roll < 0.45:
            props["utm_source"] = rng.choice(UTM_SOURCES["search-ad"])
            self._event(
                at,
                shopper,
                "search-ad",
                "ad_click",
                device=device,
                session=session,
                anonymous_id=anon,
                **props,
            )
        elif roll < 0.85:
            props["utm_source"] = rng.choice(UTM_SOURCES["social-ad"])
            self._event(
                at,
                shopper,
                "social-ad",
                "ad_click",
                device=device,
                session=session,
                anonymous_id=anon,
                **props,
            )
        else:
            props["network"] = rng.choice(("instagram", "facebook", "pinterest"))
            props["reaction"] = rng.choice(("like", "like", "comment", "share", "save"))
            self._event(
                at,
                shopper,
                "social-post",
                "post_engaged",
                device=device,
                session=session,
                anonymous_id=anon,
                **props,
            )

    def _product_views(
        self,
        at: datetime,
        shopper: _Shopper | None,
        items: list[CatalogItem],
        *,
        app: bool,
        device: str,
        session: str,
        anon: str | None = None,
    ) -> datetime:
        touchpoint = "app-product-page" if app else "web-product-page"
        for item in items:
            at += timedelta(seconds=self.rng.randint(20, 240))
            self._event(
                at,
                shopper,
                touchpoint,
                "product_view",
                device=device,
                session=session,
                anonymous_id=anon,
                sku=item.sku,
                category=item.category,
            )
        return at

    def _before_signup(self, shopper: _Shopper) -> None:
        """Anonymous visits before the account exists; the sign-up links them to the customer."""
        rng = self.rng
        anon = None
        if rng.random() < 0.75:
            anon = f"anon-{rng.getrandbits(64):016x}"
            signup_day = self._offset(shopper.signup_at)
            for _ in range(rng.randint(1, 3)):
                day = rng.randint(max(signup_day - 21, 0), max(signup_day, 0))
                at = min(self._moment(day, "online"), shopper.signup_at - timedelta(minutes=30))
                device, session = self._web_device(shopper), self._session_id()
                if rng.random() < 0.6:
                    self._awareness(at, None, device, session, anon)
                views = [self._random_product() for _ in range(rng.randint(1, 4))]
                at = self._product_views(
                    at, None, views, app=False, device=device, session=session, anon=anon
                )
                if rng.random() < 0.2:
                    self._event(
                        at + timedelta(minutes=1),
                        None,
                        "web-comparison",
                        "comparison",
                        device=device,
                        session=session,
                        anonymous_id=anon,
                        skus=[v.sku for v in views],
                    )
        self._event(
            shopper.signup_at,
            shopper,
            "web-account",
            "signed_up",
            device=self._web_device(shopper),
            session=self._session_id(),
            anonymous_id=anon,
            method=rng.choices(("email", "google", "apple"), weights=(70, 20, 10))[0],
        )

    def _browse(self, shopper: _Shopper, day: int) -> None:
        """A visit that ends without an order: window shopping, or an abandoned checkout."""
        rng = self.rng
        if shopper.home_store and rng.random() < shopper.store_affinity * 0.5:
            at = self._moment(day, "store")
            if at > shopper.signup_at:
                self._event(
                    at,
                    shopper,
                    "store-visit",
                    "store_visit",
                    device="in-store",
                    store=shopper.home_store,
                )
            return
        app = shopper.app_user and rng.random() < 0.5
        device, session = self._web_device(shopper, app), self._session_id()
        at = max(self._moment(day, "online"), shopper.signup_at + timedelta(minutes=5))
        if rng.random() < 0.25:
            self._awareness(at, shopper, device, session, None)
        views = [self._random_product() for _ in range(rng.randint(1, 5))]
        at = self._product_views(at, shopper, views, app=app, device=device, session=session)
        if not app and rng.random() < 0.12:
            at += timedelta(minutes=2)
            self._event(
                at,
                shopper,
                "web-comparison",
                "comparison",
                device=device,
                session=session,
                skus=[v.sku for v in views],
            )
        if rng.random() < 0.15:
            checkout = "app-checkout" if app else "web-checkout"
            start = at + timedelta(minutes=3)
            self._event(
                start,
                shopper,
                checkout,
                "checkout_start",
                device=device,
                session=session,
                skus=[views[-1].sku],
            )
            # One in five abandoned checkouts ran into an error first.
            if self.checkout_rng.random() < 0.2:
                self._checkout_error(start, shopper, checkout, device, session)

    def _checkout_error(
        self, start: datetime, shopper: _Shopper | None, checkout: str, device: str, session: str
    ) -> None:
        rng = self.checkout_rng
        kind, reason = rng.choice(CHECKOUT_ERRORS)
        self._event(
            start + timedelta(seconds=rng.randint(20, 80)),
            shopper,
            checkout,
            kind,
            device=device,
            session=session,
            reason=reason,
        )

    def _campaign_exposure(self, shopper: _Shopper, lo: int, hi: int) -> None:
        """Campaign ads seen by customers who did not buy: the campaign's reach."""
        signup_day = self._offset(shopper.signup_at)
        if self.rng.random() < 0.12 and signup_day < hi:
            day = self.rng.randrange(max(lo, signup_day), hi)
            device, session = self._web_device(shopper), self._session_id()
            at = max(self._moment(day, "online"), shopper.signup_at + timedelta(minutes=1))
            self._awareness(at, shopper, device, session, None, self.campaign.key, CAMPAIGN_SKU)
            if self.rng.random() < 0.5:
                self._product_views(
                    at, shopper, [CATALOG[CAMPAIGN_SKU]], app=False, device=device, session=session
                )

    def _anonymous_visitor(self) -> None:
        """Someone who looks around and never signs up."""
        rng = self.rng
        anon = f"anon-{rng.getrandbits(64):016x}"
        for _ in range(rng.randint(1, 2)):
            device, session = self._web_device(None), self._session_id()
            at = self._moment(self._day(0, DAYS), "online")
            if rng.random() < 0.5:
                self._awareness(at, None, device, session, anon)
            views = [self._random_product() for _ in range(rng.randint(1, 3))]
            self._product_views(
                at, None, views, app=False, device=device, session=session, anon=anon
            )

    def _newsletters(self, shopper: _Shopper) -> None:
        start = shopper.marketing_email_from
        if start is None:
            return
        rng, until = self.rng, shopper.marketing_email_until or self.end
        for sent, issue, campaign in self.newsletters:
            if not start <= sent < until:
                continue
            if rng.random() >= (0.38 if campaign else 0.28):
                continue
            device = self._web_device(shopper)
            opened = sent + timedelta(minutes=rng.expovariate(1 / 300))
            props: dict[str, Any] = {"issue": issue}
            if campaign:
                props["campaign"] = campaign
            self._event(opened, shopper, "newsletter", "newsletter_open", device=device, **props)
            if rng.random() < (0.35 if campaign else 0.25):
                sku = CAMPAIGN_SKU if campaign else self._random_product().sku
                clicked = opened + timedelta(seconds=rng.randint(10, 300))
                self._event(
                    clicked,
                    shopper,
                    "newsletter",
                    "newsletter_click",
                    device=device,
                    sku=sku,
                    **props,
                )

    # -- orders ---------------------------------------------------------------------------------

    def _channel(self, shopper: _Shopper) -> str:
        names = [c for c, _ in shopper.channels]
        return self.rng.choices(names, weights=[w for _, w in shopper.channels])[0]

    def _lines(self, shopper: _Shopper, from_campaign: bool) -> list[tuple[CatalogItem, int]]:
        rng = self.rng
        picked: list[CatalogItem] = []
        if from_campaign:
            picked.append(CATALOG[CAMPAIGN_SKU])
            if rng.random() < 0.4:
                picked.append(CATALOG[rng.choice(("TXT-KUSSEN", "TXT-DEKEN", "TBL-MOSS-C"))])
        else:
            for _ in range(rng.choices((1, 2, 3, 4), weights=(55, 28, 12, 5))[0]):
                item = self._random_product()
                if item not in picked:
                    picked.append(item)
        lines = []
        for item in picked:
            quantity = 1
            if item.sku == "CHR-BREE-D":
                quantity = rng.choice((2, 4, 4, 6))
            elif item.sku in {"TXT-KUSSEN", "DEC-KLEI", "LMP-BOL-T"}:
                quantity = rng.choice((1, 1, 2))
            if shopper.b2b and item.category in {"chairs", "office", "lighting"}:
                quantity *= rng.randint(3, 12)
            lines.append((item, quantity))
        bulky = any(item.bulky for item, _ in lines)
        if bulky and rng.random() < (0.5 if from_campaign else 0.35):
            lines.append((SERVICE_ASSEMBLY, 1))
        if bulky and rng.random() < 0.1:
            lines.append((SERVICE_PICKUP, 1))
        if any(i.registrable and i.price_eur >= 150 for i, _ in lines) and rng.random() < 0.2:
            lines.append((SERVICE_WARRANTY, 1))
        return lines

    def _unit_price(self, item: CatalogItem, currency: str, placed: datetime) -> Decimal:
        price = local_price(item.price_eur, currency)
        day = placed.date()
        if item.sku == CAMPAIGN_SKU and self.campaign.start <= day < self.campaign.end:
            price *= CAMPAIGN_DISCOUNT
        elif item.kind == "product" and any(-1 <= (day - f).days <= 3 for f in self.black_fridays):
            price *= Decimal("0.80") if self.rng.random() < 0.6 else Decimal(1)
        return price.quantize(CENT)

    def _order_ref(self, country: str, placed: datetime) -> str:
        while True:
            ref = f"{country}{placed:%y%m%d}-{self.rng.randrange(10000):04d}"
            if ref not in self.taken_orders:
                self.taken_orders.add(ref)
                return ref

    def _order(self, shopper: _Shopper, day: int, from_campaign: bool) -> None:
        rng = self.rng
        channel = "web" if from_campaign and rng.random() < 0.5 else self._channel(shopper)
        hours = {"store": "store", "phone": "office"}.get(channel, "online")
        placed = self._moment(day, hours)
        if placed <= shopper.signup_at:
            placed = shopper.signup_at + timedelta(minutes=rng.randint(3, 45))
        if placed >= self.end:
            return
        person = shopper.person
        lines = self._lines(shopper, from_campaign)
        if channel == "store" and rng.random() < 0.03:
            lines.append((SERVICE_DESIGN, 1))
        priced = [
            (item, qty, self._unit_price(item, shopper.currency, placed)) for item, qty in lines
        ]
        total = sum((price * qty for _, qty, price in priced), Decimal(0))
        ref = self._order_ref(person.country, placed)
        self._shopping_trip(shopper, channel, placed, priced, ref, total, from_campaign)

        method = (
            "invoice"
            if shopper.b2b
            else self._weighted(
                STORE_PAYMENT_METHODS if channel == "store" else PAYMENT_METHODS[person.country]
            )
        )
        paid_at = placed + (
            timedelta(days=rng.randint(10, 30))
            if method == "invoice"
            else timedelta(seconds=rng.randint(5, 200))
        )
        payments = []
        if paid_at < self.end:
            payments.append(
                {"kind": "payment", "amount": total, "method": method, "occurred_at": paid_at}
            )

        deliveries = []
        for shipment in self._shipments(channel, priced):
            delivery = self._delivery(shopper, placed, shipment)
            deliveries.append(self._delivery_row(shopper, placed, ref, delivery))
            self._after_delivery(shopper, ref, placed, delivery, payments, method, priced)
        self.orders.append(
            DemoOrder(
                shopper.index,
                {
                    "external_id": ref,
                    "channel": channel,
                    "store": shopper.home_store if channel == "store" else None,
                    "country": person.country,
                    "placed_at": placed,
                    "currency": shopper.currency,
                    "lines": [
                        {"sku": item.sku, "quantity": qty, "unit_price": price}
                        for item, qty, price in priced
                    ],
                    "payments": payments,
                    "deliveries": deliveries,
                },
            )
        )
        shopper.orders += 1
        shopper.spent_eur += sum((item.price_eur * qty for item, qty, _ in priced), Decimal(0))
        shopper.last_order_at = placed
        if shopper.orders > 1 and shopper.club_member:
            self._event(
                placed + timedelta(seconds=30),
                shopper,
                "noordwind-club",
                "repeat_purchase",
                device="mobile",
                order_id=ref,
                points=int(total),
            )

    def _weighted(self, pairs: list[tuple[str, int]]) -> str:
        return self.rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]

    def _shopping_trip(
        self,
        shopper: _Shopper,
        channel: str,
        placed: datetime,
        priced: list[tuple[CatalogItem, int, Decimal]],
        ref: str,
        total: Decimal,
        from_campaign: bool,
    ) -> None:
        """The visit that led to the order: ads, product pages, comparison, checkout."""
        rng = self.rng
        products = [item for item, _, _ in priced if item.kind == "product"]
        purchase = {"order_id": ref, "amount": str(total), "currency": shopper.currency}
        if channel == "store":
            if rng.random() < 0.3:  # research online, buy offline
                device, session = self._web_device(shopper), self._session_id()
                before = placed - timedelta(days=rng.randint(1, 7), minutes=rng.randint(0, 600))
                if before > shopper.signup_at:
                    self._product_views(
                        before, shopper, products[:2], app=False, device=device, session=session
                    )
            self._event(
                placed - timedelta(minutes=rng.randint(10, 50)),
                shopper,
                "store-visit",
                "store_visit",
                device="in-store",
                store=shopper.home_store,
            )
            self._event(
                placed,
                shopper,
                "store-checkout",
                "checkout_complete",
                device="in-store",
                store=shopper.home_store,
                **purchase,
            )
            return
        if channel == "phone":
            self._event(placed, shopper, "phone-order", "checkout_complete", **purchase)
            return
        app = channel == "app"
        device, session = self._web_device(shopper, app), self._session_id()
        at = placed - timedelta(minutes=rng.randint(6, 50))
        at = max(at, shopper.signup_at + timedelta(seconds=30))
        if from_campaign:
            self._awareness(at, shopper, device, session, None, self.campaign.key, CAMPAIGN_SKU)
        elif rng.random() < 0.35:
            self._awareness(at, shopper, device, session, None)
        extra = [self._random_product() for _ in range(rng.randint(0, 2))]
        at = self._product_views(
            at, shopper, [*extra, *products], app=app, device=device, session=session
        )
        if not app and rng.random() < 0.2:
            self._event(
                at + timedelta(seconds=40),
                shopper,
                "web-comparison",
                "comparison",
                device=device,
                session=session,
                skus=[p.sku for p in [*extra, *products][:3]],
            )
        checkout = "app-checkout" if app else "web-checkout"
        start = placed - timedelta(seconds=rng.randint(90, 420))
        self._event(
            start,
            shopper,
            checkout,
            "checkout_start",
            device=device,
            session=session,
            skus=[p.sku for p in products],
        )
        # A declined payment or a form error before the order went through, more often on a
        # phone's browser than elsewhere (the demo's UX story: mobile checkout hurts).
        if self.checkout_rng.random() < CHECKOUT_ERROR_RATE[device if not app else "app"]:
            self._checkout_error(start, shopper, checkout, device, session)
        self._event(
            placed,
            shopper,
            checkout,
            "checkout_complete",
            device=device,
            session=session,
            **purchase,
        )

    # -- deliveries -----------------------------------------------------------------------------

    def _shipments(
        self, channel: str, priced: list[tuple[CatalogItem, int, Decimal]]
    ) -> list[list[CatalogItem]]:
        """Furniture goes by two-person delivery, the rest as a parcel (carried home in store)."""
        products = [item for item, _, _ in priced if item.kind == "product"]
        bulky = [item for item in products if item.bulky]
        small = [item for item in products if not item.bulky]
        shipments = [bulky] if bulky else []
        if small and channel != "store":
            shipments.append(small)
        return shipments

    def _delivery(self, shopper: _Shopper, placed: datetime, items: list[CatalogItem]) -> _Delivery:
        rng = self.rng
        bulky = items[0].bulky
        lead = (
            rng.randint(7, 16)
            if bulky
            else rng.randint(1, 2) + (shopper.person.country in ("PL", "GB"))
        )
        promised_day = placed.date() + timedelta(days=lead)
        promised = datetime.combine(promised_day, time(18 if bulky else 20), tzinfo=UTC)
        story = (
            any(item.sku == CAMPAIGN_SKU for item in items)
            and self.campaign.late_from <= promised_day < self.campaign.late_until
        )
        chance = LATE_SHARE_STORY if story else (LATE_SHARE_BULKY if bulky else LATE_SHARE_PARCEL)
        days_late = 0
        if rng.random() < chance:
            days_late = (
                rng.randint(4, 15) if story else rng.randint(2, 8) if bulky else rng.randint(1, 4)
            )
        if days_late:
            delivered = promised + timedelta(days=days_late, hours=-rng.randint(1, 9))
        elif not bulky and rng.random() < 0.1:
            delivered = promised - timedelta(days=1, hours=rng.randint(1, 9))
        else:
            delivered = promised - timedelta(hours=rng.randint(1, 9), minutes=rng.randint(0, 59))
        returned = None
        if rng.random() < (0.02 if bulky else 0.04):
            returned = delivered + timedelta(days=rng.randint(3, 14), hours=rng.randint(0, 8))
        return _Delivery(
            items=items,
            promised_at=promised,
            delivered_at=delivered if delivered < self.end else None,
            days_late=days_late,
            story=story,
            returned_at=returned if returned and returned < self.end else None,
        )

    def _delivery_row(
        self, shopper: _Shopper, placed: datetime, ref: str, delivery: _Delivery
    ) -> dict[str, Any]:
        rng = self.rng
        bulky = delivery.items[0].bulky
        carrier = FURNITURE_CARRIER if bulky else PARCEL_CARRIERS[shopper.person.country]
        tracking = f"{carrier[:3].upper()}{rng.randrange(10**9, 10**10)}"
        promised = delivery.promised_at
        shipped = (
            promised - timedelta(days=1, hours=rng.randint(6, 10))
            if bulky
            else placed + timedelta(hours=rng.randint(3, 20))
        )
        history: list[dict[str, Any]] = [{"status": "ordered", "occurred_at": placed, "note": ""}]
        history.append(
            {
                "status": "shipped",
                "occurred_at": max(shipped, placed + timedelta(hours=1)),
                "note": "",
            }
        )
        if delivery.days_late:
            note = STORY_DELAY_NOTE if delivery.story else rng.choice(DELAY_NOTES)
            history.append(
                {
                    "status": "delayed",
                    "occurred_at": promised - timedelta(hours=rng.randint(2, 8)),
                    "note": note,
                }
            )
            if delivery.story and delivery.days_late > 7:
                second = promised + timedelta(days=delivery.days_late // 2)
                history.append({"status": "delayed", "occurred_at": second, "note": note})
        if delivery.delivered_at:
            history.append(
                {"status": "delivered", "occurred_at": delivery.delivered_at, "note": ""}
            )
        if delivery.returned_at:
            history.append(
                {
                    "status": "returned",
                    "occurred_at": delivery.returned_at,
                    "note": "Returned by customer",
                }
            )
        return {
            "carrier": carrier,
            "tracking_code": tracking,
            "promised_at": promised,
            "status_history": [h for h in history if h["occurred_at"] < self.end],
        }

    def _after_delivery(
        self,
        shopper: _Shopper,
        ref: str,
        placed: datetime,
        delivery: _Delivery,
        payments: list[dict[str, Any]],
        method: str,
        priced: list[tuple[CatalogItem, int, Decimal]],
    ) -> None:
        """Notifications, tracking, use, service contacts, refunds and reviews for one shipment."""
        rng = self.rng
        device = self._web_device(shopper)
        carrier = (
            FURNITURE_CARRIER
            if delivery.items[0].bulky
            else PARCEL_CARRIERS[shopper.person.country]
        )
        note = {"order_id": ref, "carrier": carrier}
        promised, delivered = delivery.promised_at, delivery.delivered_at
        shipped_at = (
            promised - timedelta(days=1) if delivery.items[0].bulky else placed + timedelta(hours=6)
        )
        self._event(
            max(shipped_at, placed + timedelta(hours=1)),
            shopper,
            "delivery-updates",
            "delivery_shipped",
            device=device,
            **note,
        )
        if delivery.days_late:
            self._event(
                promised - timedelta(hours=2),
                shopper,
                "delivery-updates",
                "delivery_delayed",
                device=device,
                **note,
            )
            for _ in range(rng.randint(1, 4)):
                at = promised + timedelta(hours=rng.uniform(1, 24 * delivery.days_late))
                self._event(
                    at,
                    shopper,
                    "track-and-trace",
                    "tracking_view",
                    device=self._web_device(shopper),
                    order_id=ref,
                )
        elif rng.random() < 0.25:
            self._event(
                promised - timedelta(hours=rng.randint(3, 30)),
                shopper,
                "track-and-trace",
                "tracking_view",
                device=self._web_device(shopper),
                order_id=ref,
            )
        if delivered is None:
            if delivery.days_late:
                self._late_contact(shopper, ref, placed, delivery)
            return
        self._event(
            delivered + timedelta(minutes=2),
            shopper,
            "delivery-updates",
            "delivery_delivered",
            device=device,
            days_late=delivery.days_late,
            **note,
        )
        main = delivery.items[0]
        problem = None
        if delivery.days_late:
            self._late_contact(shopper, ref, placed, delivery)
        roll = rng.random()
        if roll < 0.02:
            problem = "damaged"
        elif roll < 0.035:
            problem = "wrong_item"
        elif main.bulky and roll < 0.06 and not any(i is SERVICE_ASSEMBLY for i, _, _ in priced):
            problem = "missing_parts"
        if problem:
            self._service_contact(
                shopper, ref, placed, main, problem, delivered + timedelta(hours=rng.randint(2, 48))
            )
        for item in delivery.items:
            if item.registrable and rng.random() < 0.3:
                self._event(
                    delivered + timedelta(days=rng.uniform(0.1, 10)),
                    shopper,
                    "product-registration",
                    "product_registered",
                    device=self._web_device(shopper),
                    sku=item.sku,
                )
                if rng.random() < 0.08:
                    problem = problem or "defect"
                    self._service_contact(
                        shopper,
                        ref,
                        placed,
                        item,
                        "defect",
                        delivered + timedelta(days=rng.uniform(14, 90)),
                    )
            if item.bulky and rng.random() < 0.25:
                noun = item.noun.en if item.noun else item.name
                self._event(
                    delivered - timedelta(hours=rng.randint(0, 30)),
                    shopper,
                    "how-to-videos",
                    "video_watched",
                    device=self._web_device(shopper),
                    sku=item.sku,
                    video=f"How to assemble the {item.model} {noun}",
                    seconds_watched=rng.randint(30, 600),
                )
        if delivery.returned_at:
            self._refund(shopper, ref, placed, delivery, payments, method, priced)
        elif delivery.days_late >= 5 and rng.random() < 0.35:
            amount = local_price(Decimal(25), shopper.currency)
            at = delivered + timedelta(days=rng.randint(1, 6))
            if at < self.end:
                payments.append(
                    {"kind": "refund", "amount": amount, "method": method, "occurred_at": at}
                )
        elif rng.random() < 0.08:
            reason = rng.choice(("invoice", "warranty", "assembly_help" if main.bulky else "stock"))
            self._service_contact(
                shopper, ref, placed, main, reason, delivered + timedelta(days=rng.uniform(0.5, 20))
            )
        self._review(shopper, ref, delivery, problem)

    def _refund(
        self,
        shopper: _Shopper,
        ref: str,
        placed: datetime,
        delivery: _Delivery,
        payments: list[dict[str, Any]],
        method: str,
        priced: list[tuple[CatalogItem, int, Decimal]],
    ) -> None:
        rng = self.rng
        returned = delivery.returned_at
        assert returned is not None
        main = delivery.items[0]
        self._service_contact(
            shopper,
            ref,
            placed,
            main,
            "return_request",
            returned - timedelta(days=rng.randint(1, 3)),
        )
        amount = sum(
            (price * qty for item, qty, price in priced if item in delivery.items), Decimal(0)
        )
        wait = rng.choice((2, 3, 4, 5, 7, 10, 16, 21))
        refunded = returned + timedelta(days=wait)
        if refunded < self.end:
            payments.append(
                {"kind": "refund", "amount": amount, "method": method, "occurred_at": refunded}
            )
        if wait >= 10 and rng.random() < 0.6:
            self._service_contact(
                shopper,
                ref,
                placed,
                main,
                "refund_slow",
                returned + timedelta(days=rng.randint(8, wait)),
            )

    def _late_contact(
        self, shopper: _Shopper, ref: str, placed: datetime, delivery: _Delivery
    ) -> None:
        """A customer left waiting: a complaint, a chat, a call, a public post, or a question."""
        rng = self.rng
        chance = 0.8 if delivery.story else 0.45
        main = next((i for i in delivery.items if i.sku == CAMPAIGN_SKU), delivery.items[0])
        at = delivery.promised_at + timedelta(
            hours=rng.uniform(10, 24 * max(delivery.days_late, 1))
        )
        if rng.random() < chance:
            self._service_contact(shopper, ref, placed, main, "late_delivery", at, delivery)
        elif rng.random() < 0.4:
            self._service_contact(shopper, ref, placed, main, "where_is_order", at, delivery)

    def _service_contact(
        self,
        shopper: _Shopper,
        ref: str,
        placed: datetime,
        product: CatalogItem,
        reason: str,
        at: datetime,
        delivery: _Delivery | None = None,
    ) -> None:
        """One contact with customer service, on the channel this customer would pick."""
        rng, writer = self.rng, shopper.writer
        if at >= self.end:
            return
        complaint = reason in texts.COMPLAINT_REASONS
        if complaint:
            shopper.unhappy_at = at
        promised_on = delivery.promised_at.date() if delivery else None
        days = max(int((at - delivery.promised_at).total_seconds() // 86400), 2) if delivery else 0
        if reason == "defect":
            days = max(int((at - placed).days // 7), 2)
        base = {
            "order_id": ref,
            "sku": product.sku,
            "reason": reason,
            "language": writer.language,
            "intent": "complaint" if complaint else "question",
        }
        channel = rng.choices(
            ("complaints-desk", "live-chat", "service-phone", "social-care", "contact-form"),
            weights=(45, 20, 15, 10, 10) if complaint else (0, 40, 30, 0, 30),
        )[0]
        if channel == "service-phone":
            self._event(
                at, shopper, "service-phone", "call", duration_seconds=rng.randint(90, 1500), **base
            )
        elif channel == "social-care" and reason in texts.SOCIAL[writer.language]:
            text = texts.write_social_mention(
                rng, writer, product, reason=reason, promised_on=promised_on, days_late=days
            )
            network = rng.choice(("instagram", "facebook", "x"))
            self._event(
                at,
                shopper,
                "social-care",
                "social_mention",
                device="mobile",
                network=network,
                text=text,
                **base,
            )
        elif channel == "live-chat":
            if complaint:
                text = texts.write_chat_complaint(
                    rng,
                    writer,
                    product,
                    reason=reason,
                    order_ref=ref,
                    promised_on=promised_on,
                    days_late=days,
                )
            else:
                text = texts.write_question(
                    rng,
                    writer,
                    product,
                    reason=reason,
                    order_ref=ref,
                    promised_on=promised_on,
                    chat=True,
                )
            self._event(
                at,
                shopper,
                "live-chat",
                "chat_started",
                device=self._web_device(shopper),
                text=text,
                **base,
            )
        elif complaint:
            text = texts.write_complaint(
                rng,
                writer,
                product,
                reason=reason,
                order_ref=ref,
                ordered_on=placed.date(),
                promised_on=promised_on,
                days_late=days,
            )
            touchpoint = "contact-form" if channel == "contact-form" else "complaints-desk"
            type_ = "contact_form_submitted" if channel == "contact-form" else "complaint"
            self._event(
                at, shopper, touchpoint, type_, device=self._web_device(shopper), text=text, **base
            )
        else:
            text = texts.write_question(
                rng, writer, product, reason=reason, order_ref=ref, promised_on=promised_on
            )
            self._event(
                at,
                shopper,
                "contact-form",
                "contact_form_submitted",
                device=self._web_device(shopper),
                text=text,
                **base,
            )

    def _review(
        self, shopper: _Shopper, ref: str, delivery: _Delivery, problem: str | None
    ) -> None:
        rng = self.rng
        late = delivery.days_late
        # Angry customers write reviews: the campaign's late sofas most of all.
        chance = 0.6 if delivery.story and late else 0.4 if problem or late >= 3 else 0.2
        if rng.random() >= chance or delivery.delivered_at is None:
            return
        if problem and problem not in ("invoice", "warranty", "stock", "assembly_help"):
            rating = rng.choices((1, 2, 3), weights=(45, 35, 20))[0]
        elif late >= 5:
            rating = rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
        elif late:
            rating = rng.choices((2, 3, 4, 5), weights=(25, 40, 30, 5))[0]
        else:
            rating = rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 11, 33, 50))[0]
        product = next((i for i in delivery.items if i.sku == CAMPAIGN_SKU), delivery.items[0])
        text = texts.write_review(
            rng,
            shopper.writer,
            product,
            rating=rating,
            delivered_late=late > 0,
            days_late=late,
            promised_on=delivery.promised_at.date(),
        )
        at = delivery.delivered_at + timedelta(days=rng.uniform(1, 20))
        self._event(
            at,
            shopper,
            "product-reviews",
            "review",
            device=self._web_device(shopper),
            order_id=ref,
            sku=product.sku,
            rating=rating,
            language=shopper.writer.language,
            text=text,
        )
        if rating <= 2:
            shopper.unhappy_at = at
        elif rating == 5 and rng.random() < 0.12:
            self._event(
                at + timedelta(hours=rng.uniform(1, 72)),
                shopper,
                "refer-a-friend",
                "referral_sent",
                device="mobile",
                via=rng.choice(("whatsapp", "email", "link")),
            )
        elif rating == 5 and rng.random() < 0.06:
            post = texts.write_social_mention(rng, shopper.writer, product, reason="praise")
            self._event(
                at + timedelta(hours=2),
                shopper,
                "social-care",
                "social_mention",
                device="mobile",
                network=rng.choice(("instagram", "facebook")),
                text=post,
                sku=product.sku,
                reason="praise",
                intent="praise",
                language=shopper.writer.language,
            )


def build_world(*, customers: int = 5000, seed: int = 42, today: date | None = None) -> DemoWorld:
    """Simulate the demo world; the same seed and day give the same world."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    return _WorldBuilder(seed, customers, today or datetime.now(UTC).date()).build()
