"""Load a demo world through the domain services: one transaction per phase, bulk where possible."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.commerce import service as commerce_service
from opencx.commerce.schemas import ProductIn
from opencx.conversations import service as conversations_service
from opencx.conversations.routing import service as routing_service
from opencx.conversations.routing.schemas import AgentRoutingIn, RuleIn, TeamIn
from opencx.conversations.schemas import ConversationImport
from opencx.customers import service as customers_service
from opencx.db import session_scope
from opencx.demo.catalog import (
    DEMO_CAPACITY,
    DEMO_DEFAULT_TEAM,
    DEMO_LEAD_CAPACITY,
    DEMO_LEAD_SKILLS,
    DEMO_PASSWORD,
    DEMO_ROUTING,
    DEMO_TEAMS,
    DEMO_USERS,
    ORGANIZATION_NAME,
    ORGANIZATION_SLUG,
)
from opencx.demo.feedback import DEMO_SURVEYS, SURVEY_THROTTLE_DAYS, VALID_DAYS
from opencx.demo.world import DemoWorld
from opencx.errors import InvalidInput
from opencx.ingestion import ImportReport
from opencx.journeys import service as journeys_service
from opencx.journeys.maps import service as journey_maps_service
from opencx.journeys.maps.schemas import TaskIn
from opencx.journeys.schemas import TouchpointIn
from opencx.settings import get_settings
from opencx.surveys import service as surveys_service
from opencx.surveys.schemas import InvitationImport, SurveyIn

ORDER_BATCH = 5_000
CHECKOUT_TASK = TaskIn(
    name="Checkout",
    start_event="checkout_start",
    success_event="checkout_complete",
    error_events=["checkout_error", "payment_failed"],
    abandon_after_seconds=3600,
)


class DemoLoadError(Exception):
    """A service refused part of the demo world: a bug in the generator, never in user input."""


@dataclass
class DemoLoadReport:
    org_id: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def _check(report: ImportReport, what: str) -> None:
    if report.errors:
        first = report.errors[0]
        raise DemoLoadError(
            f"{what}: {len(report.errors)} rejected, first at row {first.index}: "
            f"{first.field}: {first.reason}"
        )


def load_world(
    world: DemoWorld, *, on_phase: Callable[[str, float], None] | None = None
) -> DemoLoadReport:
    """Create the demo organization and its users, then load the world phase by phase."""
    report = DemoLoadReport()

    @contextmanager
    def phase(name: str) -> Iterator[Any]:
        started = time.perf_counter()
        with session_scope() as session:
            yield session
        report.seconds[name] = time.perf_counter() - started
        if on_phase:
            on_phase(name, report.seconds[name])

    with phase("organization and users") as session:
        org = auth_service.create_organization(
            session,
            name=ORGANIZATION_NAME,
            slug=ORGANIZATION_SLUG,
            settings={surveys_service.THROTTLE_SETTING: SURVEY_THROTTLE_DAYS},
        )
        for email, name, role in DEMO_USERS:
            auth_service.create_user(
                session, org_id=org.id, email=email, name=name, role=Role(role),
                password=DEMO_PASSWORD,
            )  # fmt: skip
        report.org_id = org_id = org.id
        report.rows["users"] = len(DEMO_USERS)

    with phase("routing") as session:
        report.rows["routing teams"] = _load_routing(session, org_id)

    with phase("catalog and touchpoints") as session:
        products = [ProductIn.model_validate(p) for p in world.products]
        commerce_service.upsert_products(session, org_id=org_id, products=products)
        touchpoints = [TouchpointIn.model_validate(t) for t in world.touchpoints]
        stored_touchpoints = journeys_service.upsert_touchpoints(
            session, org_id=org_id, touchpoints=touchpoints
        )
        touchpoint_ids = {t.key: t.id for t in stored_touchpoints}
        report.rows["products"] = len(products)
        report.rows["touchpoints"] = len(touchpoints)
        # The shop's checkout as a UX task (see docs/journeys.md): from the first step to the
        # order, abandoned when not done within an hour.
        journey_maps_service.create_task(session, org_id=org_id, data=CHECKOUT_TASK)

    with phase("customers") as session:
        imported = customers_service.import_customers(
            session, org_id=org_id, rows=world.customers, source="demo"
        )
        _check(imported, "customers")
        stored, _ = customers_service.list_customers(
            session, org_id=org_id, limit=len(world.customers)
        )
        by_number = {c.attributes["customer_number"]: c.id for c in stored}
        customer_ids = [by_number[row["attributes"]["customer_number"]] for row in world.customers]
        report.rows["customers"] = imported.created

    with phase("orders") as session:
        rows = [
            {**order.row, "customer_id": customer_ids[order.customer]} for order in world.orders
        ]
        for start in range(0, len(rows), ORDER_BATCH):
            batch = rows[start : start + ORDER_BATCH]
            _check(commerce_service.import_orders(session, org_id=org_id, rows=batch), "orders")
        report.rows["orders"] = len(rows)

    with phase("events") as session:
        batch_size = get_settings().events_max_batch
        accepted = 0
        for start in range(0, len(world.events), batch_size):
            items = [
                {
                    "event_id": f"demo-{start + offset:07d}",
                    "customer_id": None if e.customer is None else customer_ids[e.customer],
                    "anonymous_id": e.anonymous_id,
                    "session_id": e.session_id,
                    "touchpoint": e.touchpoint,
                    "type": e.type,
                    "timestamp": e.timestamp,
                    "device": e.device,
                    "properties": e.properties,
                }
                for offset, e in enumerate(world.events[start : start + batch_size])
            ]
            result = journeys_service.ingest_events(session, org_id=org_id, items=items)
            if result.rejected:
                first = result.rejected[0]
                raise DemoLoadError(
                    f"events: {len(result.rejected)} rejected, first at {start + first.index}: "
                    f"{first.field}: {first.reason}"
                )
            accepted += result.accepted
        report.rows["events"] = accepted

    with phase("conversations") as session:
        surveyed = _load_conversations(session, world, org_id, customer_ids, touchpoint_ids)
        report.rows["conversations"] = len(world.conversations)
        report.rows["conversation messages"] = sum(len(c.messages) for c in world.conversations)

    with phase("surveys") as session:
        invited, answered = _load_feedback(
            session, world, org_id, customer_ids, touchpoint_ids, surveyed
        )
        report.rows["survey invitations"] = invited
        report.rows["survey responses"] = answered
    return report


def _load_routing(session: Session, org_id: int) -> int:
    """The service teams with their modes and language rules; agents' languages and capacity."""
    for name, (mode, languages) in DEMO_ROUTING.items():
        team = TeamIn(name=name, mode=mode, is_default=name == DEMO_DEFAULT_TEAM)
        team_id = routing_service.create_team(session, org_id=org_id, data=team).id
        rule = RuleIn(language=languages[0], team_id=team_id)
        routing_service.create_rule(session, org_id=org_id, data=rule)
    user_ids = {u.email: u.id for u in auth_service.list_users(session, org_id=org_id)}
    for name, agents in DEMO_TEAMS.items():
        for agent in agents:
            profile = AgentRoutingIn(
                languages=list(DEMO_ROUTING[name][1]),
                skills=list(DEMO_LEAD_SKILLS) if agent.lead else [],
                capacity=DEMO_LEAD_CAPACITY if agent.lead else DEMO_CAPACITY,
                teams=[name],
            )
            routing_service.update_agent(
                session, org_id=org_id, user_id=user_ids[agent.email], data=profile
            )
    return len(DEMO_ROUTING)


def _load_conversations(
    session: Session,
    world: DemoWorld,
    org_id: int,
    customer_ids: list[int],
    touchpoint_ids: dict[str, int],
) -> dict[tuple[int, str, str, datetime], int]:
    """The channel identities, then every conversation in one `import_conversations`.

    Returns the conversation of each CSAT invitation the survey plan makes after a service
    contact, by (customer, touchpoint, order, moment), so the invitation names it.
    """
    rows = []
    for customer, identities in world.channel_identities.items():
        known = [i for i in world.customers[customer]["identities"] if i["kind"] == "external"]
        rows.append({"identities": [*known, *identities]})
    if rows:
        _check(
            customers_service.import_customers(session, org_id=org_id, rows=rows, source="demo"),
            "channel identities",
        )
    user_ids = {u.email: u.id for u in auth_service.list_users(session, org_id=org_id)}
    items = []
    for planned in world.conversations:
        messages = [
            {
                "direction": m.direction,
                "author_kind": m.author,
                "author_user_id": user_ids[m.agent] if m.agent else None,
                "address": planned.address if m.direction == "inbound" else None,
                "body": m.body,
                "channel_message_id": m.channel_message_id,
                "sent_at": m.at,
            }
            for m in planned.messages
        ]
        items.append(
            ConversationImport.model_validate(
                {
                    "customer_id": customer_ids[planned.customer],
                    "channel": planned.channel,
                    "tags": list(planned.tags),
                    "priority": planned.priority,
                    "assignee_id": user_ids[planned.agent] if planned.agent else None,
                    "team": planned.team,
                    "touchpoint_id": touchpoint_ids[planned.touchpoint],
                    "messages": messages,
                    "resolutions": list(planned.resolutions),
                    "closed": planned.closed,
                }
            )
        )
    try:
        ids = conversations_service.import_conversations(session, org_id=org_id, items=items)
    except InvalidInput as exc:
        raise DemoLoadError(f"conversations: {exc.field}: {exc.reason}") from exc
    return {
        key: conversation_id
        for conversation_id, planned in zip(ids, world.conversations, strict=True)
        for key in planned.surveyed
    }


def _load_feedback(
    session: Session,
    world: DemoWorld,
    org_id: int,
    customer_ids: list[int],
    touchpoint_ids: dict[str, int],
    surveyed: dict[tuple[int, str, str, datetime], int],
) -> tuple[int, int]:
    """Create and publish the surveys, then invite and answer through the survey service.

    Invitations go in one `import_invitations` in the order they happened, so the service's
    consent and throttle rules decide each as they would have one by one; every answer is then
    a submit of the public form (`record_answers`) at its moment.
    """
    survey_ids: dict[str, int] = {}
    for spec in DEMO_SURVEYS:
        survey = surveys_service.create_survey(
            session,
            org_id=org_id,
            data=SurveyIn(name=spec.name, kind=spec.kind, trigger=spec.trigger),
        )
        surveys_service.publish_survey(session, org_id=org_id, survey_id=survey.id)
        survey_ids[spec.key] = survey.id
    triggers = {spec.key: spec.trigger for spec in DEMO_SURVEYS}
    user_ids = {u.email: u.id for u in auth_service.list_users(session, org_id=org_id)}
    order_ids = {
        o.external_id: o.id
        for o in commerce_service.list_orders(session, org_id=org_id, limit=len(world.orders))
    }
    items = []
    for planned in world.feedback:
        source = {
            "customer_id": customer_ids[planned.customer],
            "channel": "email",
            "touchpoint_id": touchpoint_ids[planned.touchpoint] if planned.touchpoint else None,
            "order_id": order_ids[planned.order] if planned.order else None,
            "agent_id": user_ids[planned.agent] if planned.agent else None,
            "team": planned.team,
        }
        if planned.survey == "service" and planned.touchpoint and planned.order:
            key = (planned.customer, planned.touchpoint, planned.order, planned.at)
            source["conversation_id"] = surveyed.get(key)
        trigger = triggers[planned.survey]
        if trigger is not None:
            # The interaction itself is reported; the survey's trigger does the inviting.
            item = {"at": planned.at, "interaction": {**source, "trigger": trigger}}
        else:
            item = {
                "at": planned.at,
                "survey_id": survey_ids[planned.survey],
                "invitation": {**source, "valid_days": VALID_DAYS},
            }
        items.append(InvitationImport.model_validate(item))
    reports = surveys_service.import_invitations(session, org_id=org_id, items=items)
    answered = 0
    for planned, outcome in zip(world.feedback, reports, strict=True):
        if outcome.skipped or len(outcome.invited) != 1:
            reasons = "; ".join(s.reason for s in outcome.skipped)
            raise DemoLoadError(f"surveys: {planned.survey} at {planned.at}: {reasons}")
        for answer in planned.answers:
            surveys_service.record_answers(
                session, token=outcome.invited[0].token, form=answer.form, now=answer.at
            )
        answered += bool(planned.answers)
    return len(world.feedback), answered
