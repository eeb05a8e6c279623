"""Surveys in the demo world: who is invited after which interaction, and what they answer.

The plan is made after the world, from its own `random.Random`, so adding feedback leaves the
customers, orders and events exactly as they were. It follows each customer's journey: an NPS
right after a delivery (lower when it came late or broken, lowest for the Lento sofas of the
planted story), a CSAT when a service contact is resolved (credited to the agent and team), a CES
after some web checkouts, and a relationship NPS each quarter.

The plan mirrors the survey rules (consent to surveys by email at the moment of the invitation;
one invitation per customer per `SURVEY_THROTTLE_DAYS`, the demo organization's setting
`survey_throttle_days`: a transactional program's contact rule, shorter than the service's
default of 30), so that every planned invitation is one the service accepts. The load still goes
through the service, which checks every rule again; a refusal there stops the load as a bug of
this plan.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from opencx.demo import texts
from opencx.demo.catalog import (
    CAMPAIGN_SKU,
    CATALOG,
    DEMO_TEAMS,
    FURNITURE_CARRIER,
    AgentSpec,
    CatalogItem,
)

if TYPE_CHECKING:
    from opencx.demo.world import DemoWorld

SURVEY_THROTTLE_DAYS = 7
VALID_DAYS = 14
SERVICE_TOUCHPOINTS = ("live-chat", "service-phone", "complaints-desk", "contact-form")
# A contact about an order still on its way stays open until the order arrives.
PENDING_REASONS = ("late_delivery", "where_is_order")
PROBLEM_REASONS = ("damaged", "wrong_item", "missing_parts")
# Every two-person home delivery is surveyed, one parcel in three (parcels are many and alike).
PARCEL_SAMPLE = 1 / 3
CHECKOUT_SAMPLE = 0.15
RELATIONSHIP_SAMPLE = 0.25
RELATIONSHIP_MONTHS = (1, 4, 7, 10)
TEAM_OF_LANGUAGE = {"nl": "service-nl", "pl": "service-pl", "en": "service-uk"}

# Weights of the scores 0-10 (NPS), 1-5 (CSAT) and 1-7 (CES) per situation.
NPS_WEIGHTS = {
    "on_time": (1, 1, 1, 1, 2, 3, 4, 11, 19, 26, 31),
    "late": (3, 2, 3, 5, 6, 9, 10, 16, 18, 14, 14),
    "very_late": (6, 5, 7, 8, 9, 10, 10, 13, 12, 10, 10),
    "story": (18, 13, 13, 11, 9, 8, 7, 7, 6, 4, 4),
    "problem": (12, 8, 9, 9, 9, 10, 9, 11, 9, 7, 7),
    "loyal": (1, 0, 1, 1, 1, 2, 4, 12, 20, 27, 31),
    "regular": (2, 1, 2, 2, 3, 5, 7, 16, 21, 21, 20),
    "unhappy": (12, 8, 10, 10, 9, 10, 9, 10, 9, 7, 6),
}
CSAT_WEIGHTS = {
    "question": (3, 5, 10, 37, 45),
    "complaint": (15, 18, 22, 27, 18),
    "late_delivery": (22, 20, 22, 22, 14),
    "where_is_order": (8, 12, 20, 33, 27),
}
CES_WEIGHTS = {"desktop": (1, 1, 3, 6, 14, 35, 40), "other": (2, 3, 5, 10, 18, 32, 30)}
# Angry and delighted customers answer more often than content ones.
RESPONSE_RATE = {
    "on_time": 0.27, "late": 0.32, "very_late": 0.36, "story": 0.55, "problem": 0.4,
    "question": 0.33, "complaint": 0.4, "late_delivery": 0.42, "where_is_order": 0.33,
    "checkout": 0.22, "loyal": 0.26, "regular": 0.2, "unhappy": 0.32,
}  # fmt: skip
# The comment pools (demo.texts.SURVEY_WHY) of each situation of a delivery or service contact.
ABOUT = {
    "on_time": "delivery_on_time", "late": "delivery_late", "very_late": "delivery_late",
    "story": "delivery_story", "problem": "delivery_problem",
    "question": "service_question", "where_is_order": "service_question",
    "complaint": "service_complaint", "late_delivery": "service_complaint",
}  # fmt: skip
SCORE_ONLY = 0.15  # answer the score and leave the "why?" empty
LEAVE_BEFORE_WHAT_WENT_WRONG = 0.3


@dataclass(frozen=True)
class DemoSurvey:
    key: str
    name: str
    kind: str  # a SurveyKind value
    trigger: str | None  # a SurveyTrigger value


DEMO_SURVEYS = (
    DemoSurvey("delivery", "NPS after delivery", "nps", "delivery_delivered"),
    DemoSurvey("service", "CSAT after a service contact", "csat", "conversation_resolved"),
    DemoSurvey("checkout", "CES after web checkout", "ces", None),
    DemoSurvey("relationship", "Relationship NPS (quarterly)", "nps", None),
)


class DemoAnswer(NamedTuple):
    """One submit of the public survey form (the service's `record_answers` form)."""

    at: datetime
    form: dict[str, list[str]]


class DemoInvitation(NamedTuple):
    at: datetime
    survey: str  # DemoSurvey.key
    customer: int  # position in DemoWorld.customers
    touchpoint: str | None  # touchpoint key
    order: str | None  # the order's external id
    agent: str | None  # the agent's email (a demo user)
    team: str | None
    # What happened: on_time, late, very_late, story, problem (deliveries); question, complaint,
    # late_delivery, where_is_order (service); checkout; loyal, regular, unhappy (relationship).
    situation: str
    answers: tuple[DemoAnswer, ...]  # the submits in order; none: never answered


@dataclass
class _Candidate:
    at: datetime
    survey: str
    customer: int
    touchpoint: str | None = None
    order: str | None = None
    agent: AgentSpec | None = None
    team: str | None = None
    situation: str = ""
    product: CatalogItem | None = None
    days_late: int = 0
    promised_on: date | None = None
    reason: str = ""
    device: str | None = None


@dataclass
class _OrderFacts:
    skus: list[str]
    # carrier -> (promised, delivered or None, story delay)
    deliveries: dict[str, tuple[datetime, datetime | None, bool]] = field(default_factory=dict)


def _nps_band(score: int) -> str:
    return "good" if score >= 9 else "mid" if score >= 7 else "bad"


def _csat_band(score: int) -> str:
    return "good" if score >= 4 else "mid" if score == 3 else "bad"


def _ces_band(score: int) -> str:
    return "good" if score >= 6 else "mid" if score >= 4 else "bad"


class _FeedbackBuilder:
    def __init__(self, world: DemoWorld, writers: list[texts.Writer]) -> None:
        self.world = world
        self.writers = writers
        # A stream of its own: the world's stream stays untouched.
        self.rng = random.Random(f"noordwind-feedback-{world.seed}")
        self.end = datetime.combine(world.today, time(), tzinfo=UTC)
        self.orders: dict[str, _OrderFacts] = {}
        self.problems: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self.unhappy: dict[int, list[datetime]] = defaultdict(list)
        self.order_times: dict[int, list[datetime]] = defaultdict(list)

    # -- what happened ------------------------------------------------------------------------

    def _index_orders(self) -> None:
        for order in self.world.orders:
            row = order.row
            facts = _OrderFacts([line["sku"] for line in row["lines"]])
            for delivery in row["deliveries"]:
                history = delivery["status_history"]
                delivered = next(
                    (h["occurred_at"] for h in history if h["status"] == "delivered"), None
                )
                # the delay note of the planted story (world.STORY_DELAY_NOTE)
                story = any(h["note"].startswith("Supplier backlog") for h in history)
                facts.deliveries[delivery["carrier"]] = (delivery["promised_at"], delivered, story)
            self.orders[row["external_id"]] = facts
            self.order_times[order.customer].append(row["placed_at"])

    def _shipment_product(self, facts: _OrderFacts, carrier: str) -> CatalogItem:
        bulky = carrier == FURNITURE_CARRIER
        items = [
            CATALOG[sku]
            for sku in facts.skus
            if CATALOG[sku].kind == "product" and CATALOG[sku].bulky == bulky
        ]
        lento = next((i for i in items if i.sku == CAMPAIGN_SKU), None)
        return lento or (items[0] if items else CATALOG[facts.skus[0]])

    def _candidates(self) -> list[_Candidate]:
        for event in self.world.events:
            props = event.properties
            if event.customer is None:
                continue
            if props.get("reason") in PROBLEM_REASONS:
                self.problems[props["order_id"]].append((event.timestamp, props["reason"]))
            if (
                props.get("intent") == "complaint"
                or (event.type == "review" and props["rating"] <= 2)
                or (event.type == "delivery_delivered" and props["days_late"])
            ):
                self.unhappy[event.customer].append(event.timestamp)
        found: list[_Candidate] = []
        for event in self.world.events:
            customer = event.customer
            if customer is None:
                continue
            props = event.properties
            reason = props.get("reason", "")
            if event.type == "delivery_delivered":
                if props["carrier"] == FURNITURE_CARRIER or self.rng.random() < PARCEL_SAMPLE:
                    found.append(self._delivery(event.timestamp, customer, props))
            elif event.touchpoint in SERVICE_TOUCHPOINTS and reason:
                candidate = self._service(event.timestamp, customer, event.touchpoint, props)
                if candidate is not None:
                    found.append(candidate)
            elif (
                event.type == "checkout_complete"
                and event.touchpoint == "web-checkout"
                and self.rng.random() < CHECKOUT_SAMPLE
            ):
                found.append(
                    _Candidate(
                        event.timestamp + timedelta(minutes=self.rng.randint(2, 20)),
                        "checkout",
                        customer,
                        touchpoint="web-checkout",
                        order=props["order_id"],
                        situation="checkout",
                        device=event.device,
                    )
                )
        found.extend(self._relationship())
        return found

    def _delivery(self, at: datetime, customer: int, props: dict[str, Any]) -> _Candidate:
        ref, carrier = props["order_id"], props["carrier"]
        facts = self.orders[ref]
        promised, _, story = facts.deliveries[carrier]
        days_late = props["days_late"]
        product = self._shipment_product(facts, carrier)
        problem = next(
            (r for t, r in self.problems.get(ref, []) if at <= t <= at + timedelta(days=3)), ""
        )
        if story and days_late:
            situation = "story"
        elif problem:
            situation = "problem"
        elif days_late >= 4:
            situation = "very_late"
        elif days_late:
            situation = "late"
        else:
            situation = "on_time"
        return _Candidate(
            at,
            "delivery",
            customer,
            touchpoint="delivery-updates",
            order=ref,
            situation=situation,
            product=product,
            days_late=days_late,
            promised_on=promised.date(),
            reason=problem,
        )

    def _service(
        self, at: datetime, customer: int, touchpoint: str, props: dict[str, Any]
    ) -> _Candidate | None:
        rng, reason = self.rng, props["reason"]
        ref = props["order_id"]
        facts = self.orders.get(ref)
        if reason in PENDING_REASONS:
            arrivals = sorted(
                delivered
                for _, delivered, _ in (facts.deliveries.values() if facts else ())
                if delivered is not None and delivered > at
            )
            if not arrivals:
                return None  # still waiting today: the conversation is open
            resolved = arrivals[0] + timedelta(hours=rng.uniform(1, 8))
            situation = reason
        else:
            situation = "complaint" if props["intent"] == "complaint" else "question"
            if touchpoint == "live-chat":
                resolved = at + timedelta(minutes=rng.uniform(4, 30))
            elif touchpoint == "service-phone":
                resolved = at + timedelta(seconds=props["duration_seconds"] + 30)
            else:
                resolved = at + timedelta(hours=rng.uniform(2, 30))
        team = TEAM_OF_LANGUAGE[props["language"]]
        agents = DEMO_TEAMS[team]
        # Team leads take a larger share of complaints (escalations).
        weights = [a.share * (2.5 if a.lead and situation != "question" else 1.0) for a in agents]
        agent = rng.choices(agents, weights=weights)[0]
        promised = None
        if facts is not None:
            promised = min((p for p, _, _ in facts.deliveries.values()), default=None)
        return _Candidate(
            resolved,
            "service",
            customer,
            touchpoint=touchpoint,
            order=ref,
            agent=agent,
            team=team,
            situation=situation,
            product=CATALOG[props["sku"]],
            promised_on=promised.date() if promised else None,
            reason=reason,
        )

    def _relationship(self) -> list[_Candidate]:
        rng, found = self.rng, []
        start = self.end - timedelta(days=365)
        days = []
        for year in (start.year, start.year + 1):
            for month in RELATIONSHIP_MONTHS:
                first = date(year, month, 1)
                tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
                moment = datetime.combine(tuesday, time(9), tzinfo=UTC)
                if start <= moment < self.end:
                    days.append(moment)
        for moment in days:
            for index, row in enumerate(self.world.customers):
                signed_up = date.fromisoformat(row["attributes"]["signed_up_on"])
                if (moment.date() - signed_up).days < 30 or rng.random() >= RELATIONSHIP_SAMPLE:
                    continue
                at = moment + timedelta(seconds=rng.randrange(7200))
                orders = [t for t in self.order_times.get(index, []) if t < at]
                if not orders:
                    continue
                found.append(_Candidate(at, "relationship", index))
        return found

    def _relationship_situation(self, candidate: _Candidate) -> str:
        at, who = candidate.at, candidate.customer
        half_year = at - timedelta(days=180)
        if any(half_year <= t < at for t in self.unhappy.get(who, [])):
            return "unhappy"
        orders = [t for t in self.order_times.get(who, []) if t < at]
        return "loyal" if len(orders) >= 4 else "regular"

    # -- the rules the service checks again ---------------------------------------------------

    def _consents(self, index: int, at: datetime) -> bool:
        """Mirror of customers.service.may_contact for surveys by email."""
        decisions = [
            r
            for r in self.world.customers[index]["consents"]
            if r["purpose"] == "surveys" and r["channel"] in ("email", "any")
            and r["occurred_at"] <= at
        ]  # fmt: skip
        if not decisions:
            return False
        latest = max(decisions, key=lambda r: (r["occurred_at"], r["channel"] == "email"))
        return bool(latest["status"] == "granted")

    # -- answers ------------------------------------------------------------------------------

    def _score(self, candidate: _Candidate) -> int:
        rng = self.rng
        if candidate.survey == "service":
            weights = CSAT_WEIGHTS[candidate.situation]
            score = rng.choices(range(1, 6), weights=weights)[0]
            skill = candidate.agent.skill if candidate.agent else 0.0
            if rng.random() < abs(skill):
                score += 1 if skill > 0 else -1
            return min(max(score, 1), 5)
        if candidate.survey == "checkout":
            key = "desktop" if candidate.device == "desktop" else "other"
            return rng.choices(range(1, 8), weights=CES_WEIGHTS[key])[0]
        return rng.choices(range(11), weights=NPS_WEIGHTS[candidate.situation])[0]

    def _answer_at(self, candidate: _Candidate) -> datetime | None:
        # Most answer within hours, some after days; the link is valid for VALID_DAYS.
        hours = min(self.rng.lognormvariate(math.log(3), 1.4), 24 * VALID_DAYS - 1)
        answered = candidate.at + timedelta(hours=hours)
        return answered if answered < self.end else None

    def _answers(self, candidate: _Candidate) -> tuple[DemoAnswer, ...]:
        rng = self.rng
        if rng.random() >= RESPONSE_RATE[candidate.situation]:
            return ()
        answered = self._answer_at(candidate)
        if answered is None:
            return ()  # not yet: the link is still open today
        score = self._score(candidate)
        writer = self.writers[candidate.customer]
        kind = candidate.survey
        if kind == "service":
            band = _csat_band(score)
            detractor = score <= 2
        elif kind == "checkout":
            band, detractor = _ces_band(score), False
        else:
            band, detractor = _nps_band(score), score <= 6
        why = ""
        if rng.random() >= SCORE_ONLY:
            why = texts.write_survey_why(
                rng,
                writer,
                about=self._about(candidate),
                band=band,
                product=candidate.product,
                days_late=candidate.days_late,
                promised_on=candidate.promised_on,
                reason=candidate.reason,
                agent=candidate.agent.name.split()[0] if candidate.agent else "",
                via=candidate.touchpoint or "",
            )
        first = {"shown": ["score", "why"], "q_score": [str(score)], "q_why": [why] if why else []}
        answers = [DemoAnswer(answered, first)]
        if detractor and rng.random() >= LEAVE_BEFORE_WHAT_WENT_WRONG:
            wrong = texts.write_what_went_wrong(
                rng,
                writer,
                about=self._about(candidate),
                product=candidate.product,
                reason=candidate.reason,
                via=candidate.touchpoint or "",
            )
            second = {
                **first,
                "shown": ["score", "why", "what_went_wrong"],
                "q_what_went_wrong": [wrong],
            }
            answers.append(DemoAnswer(answered + timedelta(seconds=rng.randint(20, 240)), second))
        return tuple(answers)

    def _about(self, candidate: _Candidate) -> str:
        """Which pool of comments fits: the survey, and what happened."""
        if candidate.survey in ("delivery", "service"):
            return ABOUT[candidate.situation]
        return candidate.survey

    # -- the plan -----------------------------------------------------------------------------

    def build(self) -> list[DemoInvitation]:
        self._index_orders()
        candidates = self._candidates()
        candidates.sort(key=lambda c: c.at)
        last_invited: dict[int, datetime] = {}
        throttle = timedelta(days=SURVEY_THROTTLE_DAYS)
        plan = []
        for candidate in candidates:
            if candidate.at >= self.end:
                continue
            who = candidate.customer
            previous = last_invited.get(who)
            if previous is not None and previous > candidate.at - throttle:
                continue
            if not self._consents(who, candidate.at):
                continue
            if candidate.survey == "relationship":
                candidate.situation = self._relationship_situation(candidate)
            last_invited[who] = candidate.at
            plan.append(
                DemoInvitation(
                    candidate.at,
                    candidate.survey,
                    who,
                    candidate.touchpoint,
                    candidate.order,
                    candidate.agent.email if candidate.agent else None,
                    candidate.team,
                    candidate.situation,
                    self._answers(candidate),
                )
            )
        return plan


def plan_feedback(world: DemoWorld, writers: list[texts.Writer]) -> list[DemoInvitation]:
    """The demo's survey invitations and answers, in the order they happened."""
    return _FeedbackBuilder(world, writers).build()
