"""Service desk measures on a hand-built week of conversations, made through the service desk.

Week W (a Monday three weeks ago), times from each conversation's first customer message:

| conv | customer | channel | tags | assignee | first reply | resolved | notes |
|---|---|---|---|---|---|---|---|
| C1 | 1 | email | delivery | Ada | 10 min | 2 h | |
| C2 | 2 | email | refund | Ada | 30 min | 5 h | C3 is a repeat contact: not FCR |
| C3 | 2 | email | refund | Bo | 60 min | 1.5 h | starts 3 days after C2 |
| C4 | 3 | chat | delivery | Bo | 2 min | 1 d 1 h | reopened after a day: not FCR |
| C5 | 4 | email | delivery | Ada | - | - | open, unanswered |
| C6 | 5 | email | stock | Ada | 4 h | 8 h | C7 is another topic: FCR |
| C7 | 5 | email | invoice | - | 20 min | - | open; starts 2 days after C6 |
| C8 | 6 | email | (none) | Bo | 15 min | 1 h | C9 starts 10 days after: FCR |
| C10 | 7 | chat | delivery | Bo | 3 min (bot 5 s) | 10 min | imported: the bot answered first |

C9 (customer 6, ten days after C8) starts in the week after W.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.analytics import service
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.conversations import service as conversations
from opencx.conversations.schemas import (
    AssignIn,
    ConversationImport,
    ConversationPatch,
    InboundMessageIn,
    ReplyIn,
)
from opencx.errors import InvalidInput
from tests.conftest import PASSWORD, Tenant

TODAY = datetime.now(UTC).date()
WEEK = TODAY - timedelta(days=TODAY.weekday() + 21)
W = datetime.combine(WEEK, time(8), tzinfo=UTC)
PERIOD = {"start": WEEK, "end": WEEK + timedelta(days=7)}
MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass
class Desk:
    org_id: int
    ada_id: int
    bo_id: int
    whatsapp_customer_id: int
    lead_email: str


def _write(
    session: Session, org_id: int, customer: int, at: datetime, channel: str = "email"
) -> int:
    sender = (
        {"kind": "email", "value": f"customer{customer}@example.com"}
        if channel == "email"
        else {"kind": "external", "namespace": "webchat", "value": f"visitor-{customer}"}
    )
    result = conversations.record_inbound_message(
        session,
        org_id=org_id,
        data=InboundMessageIn.model_validate(
            {
                "channel": channel,
                "sender": sender,
                "subject": "Question",
                "body": "Where is my order?",
                "received_at": at,
            }
        ),
    )
    return result.conversation.id


def _handle(
    session: Session,
    org_id: int,
    conversation_id: int,
    *,
    start: datetime,
    tags: list[str],
    agent: int | None,
    team: str | None,
    reply_after: int | None,
    resolve_after: int | None,
) -> None:
    if agent is not None or team is not None:
        conversations.assign_conversation(
            session,
            org_id=org_id,
            conversation_id=conversation_id,
            data=AssignIn(assignee_id=agent, team=team),
        )
    conversations.update_conversation(
        session,
        org_id=org_id,
        conversation_id=conversation_id,
        changes=ConversationPatch(tags=tags),
        now=start,
    )
    if reply_after is not None:
        conversations.reply_to_conversation(
            session,
            org_id=org_id,
            conversation_id=conversation_id,
            data=ReplyIn(body="We are on it."),
            author_user_id=agent,
            now=start + timedelta(seconds=reply_after),
        )
    if resolve_after is not None:
        conversations.update_conversation(
            session,
            org_id=org_id,
            conversation_id=conversation_id,
            changes=ConversationPatch(status="resolved"),
            now=start + timedelta(seconds=resolve_after),
        )


@pytest.fixture
def desk(db_session: Session, tenant: Tenant) -> Desk:
    org = tenant.org_id
    ada, bo = (
        auth.create_user(
            db_session,
            org_id=org,
            email=f"{name.lower()}@acme.example",
            name=name,
            role=Role.agent,
            password=PASSWORD,
        ).id
        for name in ("Ada", "Bo")
    )
    lead = auth.create_user(
        db_session,
        org_id=org,
        email="mia@acme.example",
        name="Mia",
        role=Role.manager,
        password=PASSWORD,
    )
    nl, pl = "service-nl", "service-pl"
    plan = [
        # customer, start, channel, tags, agent, team, reply after, resolved after
        (1, W, "email", ["delivery"], ada, nl, 10 * MINUTE, 2 * HOUR),
        (2, W + timedelta(hours=1), "email", ["refund"], ada, nl, 30 * MINUTE, 5 * HOUR),
        (2, W + timedelta(days=3, hours=1), "email", ["refund"], bo, pl, HOUR, 90 * MINUTE),
        (3, W + timedelta(hours=2), "chat", ["delivery"], bo, pl, 2 * MINUTE, 20 * MINUTE),
        (4, W + timedelta(hours=3), "email", ["delivery"], ada, nl, None, None),
        (5, W + timedelta(hours=4), "email", ["stock"], ada, nl, 4 * HOUR, 8 * HOUR),
        (5, W + timedelta(days=2, hours=4), "email", ["invoice"], None, None, 20 * MINUTE, None),
        (6, W + timedelta(hours=6), "email", [], bo, pl, 15 * MINUTE, HOUR),
        (6, W + timedelta(days=10, hours=7), "email", [], None, None, None, None),
    ]
    for customer, start, channel, tags, agent, team, reply, resolve in plan:
        conversation_id = _write(db_session, org, customer, start, channel)
        _handle(
            db_session,
            org,
            conversation_id,
            start=start,
            tags=tags,
            agent=agent,
            team=team,
            reply_after=reply,
            resolve_after=resolve,
        )
        if customer == 3:
            # C4: the customer writes again a day later; it reopens, is answered and resolved.
            again = start + timedelta(days=1)
            assert _write(db_session, org, customer, again, channel) == conversation_id
            _handle(
                db_session,
                org,
                conversation_id,
                start=again,
                tags=tags,
                agent=agent,
                team=team,
                reply_after=30 * MINUTE,
                resolve_after=HOUR,
            )
    # C10, imported: the bot answers in 5 s, Bo takes over after 3 min and resolves at 10 min.
    customer_id = conversations.record_inbound_message(
        db_session,
        org_id=org,
        data=InboundMessageIn.model_validate(
            {
                "channel": "whatsapp",
                "sender": {"kind": "phone", "value": "+31612345678"},
                "body": "Hallo",
                "received_at": W,
            }
        ),
    ).conversation.customer_id
    start = W + timedelta(hours=5)

    def message(
        direction: str, kind: str, after: int, user: int | None = None
    ) -> dict[str, object]:
        return {
            "direction": direction,
            "author_kind": kind,
            "author_user_id": user,
            "body": "...",
            "channel_message_id": f"c10-{after}",
            "sent_at": start + timedelta(seconds=after),
        }

    conversations.import_conversations(
        db_session,
        org_id=org,
        items=[
            ConversationImport.model_validate(
                {
                    "customer_id": customer_id,
                    "channel": "chat",
                    "tags": ["delivery"],
                    "assignee_id": bo,
                    "team": pl,
                    "messages": [
                        message("inbound", "customer", 0),
                        message("outbound", "bot", 5),
                        message("outbound", "agent", 3 * MINUTE, bo),
                    ],
                    "resolutions": [start + timedelta(minutes=10)],
                }
            )
        ],
    )
    db_session.commit()
    sync_to_analytics()
    return Desk(
        org_id=org, ada_id=ada, bo_id=bo, whatsapp_customer_id=customer_id, lead_email=lead.email
    )


def _measures(session: Session, desk: Desk, by: str, grain: str = "none") -> dict:  # type: ignore[type-arg]
    rows = service.compute_service_desk_measures(
        session, org_id=desk.org_id, by=by, grain=grain, **PERIOD
    )
    return {row.key: row for row in rows}


def test_the_whole_desk_in_week_w(db_session: Session, desk: Desk) -> None:
    # when the desk is measured over week W as a whole
    everything = _measures(db_session, desk, "all")["all"]
    # then the WhatsApp "Hallo" (W, unanswered, open) counts as a tenth conversation
    assert everything.conversations == 10
    # first responses: 2, 3, 10, 15, 20, 30, 60 min, 4 h (the bot's 5 s does not count)
    assert everything.answered == 8
    assert everything.first_response_median_seconds == (15 + 20) / 2 * MINUTE
    assert everything.first_response_p90_seconds == 4 * HOUR  # nearest rank: 8th of 8
    # resolutions: 10 min, 1 h, 1.5 h, 2 h, 5 h, 8 h, 1 d 1 h (C4's last resolution)
    assert everything.resolved == 7
    assert everything.resolution_median_seconds == 2 * HOUR
    assert everything.resolution_p90_seconds == DAY + HOUR  # 7th of 7
    # first contact: C1, C3, C6, C8, C10 (not C2: C3 followed on refunds; not C4: reopened)
    assert everything.first_contact_resolved == 5
    assert everything.first_contact_resolution_rate == pytest.approx(5 / 7)
    assert (everything.reopened, everything.ever_resolved) == (1, 7)
    assert everything.reopen_rate == pytest.approx(1 / 7)
    # responses: C1, C2, C3, C4 twice, C6, C7, C8 and C10 by people, one by the bot
    assert (everything.responses, everything.human_responses, everything.bot_responses) == (
        10,
        9,
        1,
    )
    assert everything.human_share == pytest.approx(0.9)


def test_per_agent_with_their_names(db_session: Session, desk: Desk) -> None:
    rows = _measures(db_session, desk, "agent")
    ada, bo, nobody = rows[desk.ada_id], rows[desk.bo_id], rows[None]
    # then Ada has C1, C2, C5, C6: replies 10 min, 30 min, 4 h; resolutions 2 h, 5 h, 8 h
    assert (ada.label, ada.conversations, ada.answered, ada.resolved) == ("Ada", 4, 3, 3)
    assert ada.first_response_median_seconds == 30 * MINUTE
    assert ada.first_response_p90_seconds == 4 * HOUR
    assert ada.resolution_median_seconds == 5 * HOUR
    assert ada.first_contact_resolved == 2  # C1 and C6
    # Bo has C3, C4, C8, C10: replies 60, 2, 15, 3 min; resolutions 1.5 h, 1 d 1 h, 1 h, 10 min
    assert (bo.label, bo.conversations, bo.answered, bo.resolved) == ("Bo", 4, 4, 4)
    assert bo.first_response_median_seconds == (3 + 15) / 2 * MINUTE
    assert bo.first_response_p90_seconds == HOUR
    assert bo.resolution_median_seconds == (HOUR + 90 * MINUTE) / 2
    assert (bo.first_contact_resolved, bo.reopened) == (3, 1)
    assert (bo.human_responses, bo.bot_responses) == (5, 1)
    # and the unassigned ones (C7 and the WhatsApp hello) form their own group
    assert (nobody.label, nobody.conversations, nobody.answered) == ("Unassigned", 2, 1)


def test_per_channel_and_team(db_session: Session, desk: Desk) -> None:
    channels = _measures(db_session, desk, "channel")
    assert {key: row.conversations for key, row in channels.items()} == {
        "email": 7,
        "chat": 2,
        "whatsapp": 1,
    }
    assert channels["chat"].first_response_median_seconds == (2 + 3) / 2 * MINUTE
    teams = _measures(db_session, desk, "team")
    assert {key: row.conversations for key, row in teams.items()} == {
        "service-nl": 4,
        "service-pl": 4,
        None: 2,
    }
    assert teams[None].label == "No team"


def test_weeks_split_by_the_customers_first_message(db_session: Session, desk: Desk) -> None:
    # when measured per week over three weeks
    rows = service.compute_service_desk_measures(
        db_session,
        org_id=desk.org_id,
        by="all",
        grain="week",
        start=WEEK,
        end=WEEK + timedelta(days=21),
    )
    # then week W holds ten conversations and C9 counts in the week it started, unanswered
    weeks = {row.period_start: row for row in rows}
    assert weeks[WEEK].conversations == 10
    c9_week = WEEK + timedelta(days=7)
    assert (weeks[c9_week].conversations, weeks[c9_week].answered) == (1, 0)
    assert weeks[c9_week].first_response_median_seconds is None
    # and C4's second reply, a day after it reopened, is a response of week W
    assert sum(row.responses for row in rows) == 10


def test_bad_choices_name_the_field(db_session: Session, desk: Desk) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.compute_service_desk_measures(
            db_session, org_id=desk.org_id, by="country", grain="week", **PERIOD
        )
    assert caught.value.field == "by"


def test_report_over_the_last_weeks(db_session: Session, desk: Desk) -> None:
    # when the team lead opens the report over the last 4 weeks, per agent
    report = service.get_service_desk_report(
        db_session, org_id=desk.org_id, by="agent", today=TODAY, weeks=4
    )
    # then week W is the first of the trend, and the totals add up
    assert report.weeks[0] == WEEK and report.trend[0] is not None
    assert report.trend[0].conversations == 10
    assert report.total is not None and report.total.conversations == 11
    assert {row.label for row in report.groups} == {"Ada", "Bo", "Unassigned"}


def test_the_api_serves_the_measures(client: TestClient, desk: Desk, tenant: Tenant) -> None:
    params = {"by": "channel", "grain": "none", **{k: str(v) for k, v in PERIOD.items()}}
    answer = client.get(
        "/api/v1/analytics/service-desk-measures", params=params, headers=tenant.headers
    )
    assert answer.status_code == 200
    assert {row["key"]: row["conversations"] for row in answer.json()} == {
        "email": 7,
        "chat": 2,
        "whatsapp": 1,
    }
    bad = client.get(
        "/api/v1/analytics/service-desk-measures",
        params={**params, "by": "country"},
        headers=tenant.headers,
    )
    assert bad.status_code == 422 and "by" in str(bad.json())


def test_an_import_naming_another_organizations_customer_changes_nothing(
    db_session: Session, desk: Desk, other_tenant: Tenant
) -> None:
    item = ConversationImport.model_validate(
        {
            "customer_id": desk.whatsapp_customer_id,
            "channel": "email",
            "messages": [{"direction": "inbound", "author_kind": "customer", "sent_at": W}],
        }
    )
    with pytest.raises(InvalidInput) as caught:
        conversations.import_conversations(db_session, org_id=other_tenant.org_id, items=[item])
    assert caught.value.field == "items.0.customer_id"
    # and a channel message id stored before is refused by name
    again = ConversationImport.model_validate(
        {
            "customer_id": desk.whatsapp_customer_id,
            "channel": "chat",
            "messages": [
                {
                    "direction": "inbound",
                    "author_kind": "customer",
                    "channel_message_id": "c10-0",
                    "sent_at": W,
                }
            ],
        }
    )
    with pytest.raises(InvalidInput) as caught:
        conversations.import_conversations(db_session, org_id=desk.org_id, items=[again])
    assert caught.value.field == "channel_message_id"
