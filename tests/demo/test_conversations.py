"""Demo conversations: every channel, the customer's language and team, the story, the rules."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth_service
from opencx.conversations.models import Conversation, ConversationStatus, Message
from opencx.customers import service as customers_service
from opencx.customers.models import IdentityKind
from opencx.demo.catalog import CAMPAIGN_SKU, DEMO_TEAMS
from opencx.demo.conversations import DemoConversation
from opencx.demo.feedback import TEAM_OF_LANGUAGE
from opencx.demo.load import load_world
from opencx.demo.world import DemoWorld, build_world
from opencx.surveys.models import SurveyInvitation
from opencx.text.language import detect_language

TODAY = date(2025, 11, 22)
CHANNELS = {"email", "chat", "whatsapp", "messenger", "instagram", "telegram", "voice", "web_form"}


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return build_world(customers=3000, seed=42, today=TODAY)


def first_reply_seconds(conversation: DemoConversation) -> float | None:
    start = conversation.messages[0].at
    reply = next((m.at for m in conversation.messages if m.author == "agent"), None)
    return None if reply is None else (reply - start).total_seconds()


def test_conversations_on_every_channel_in_the_customers_language(world: DemoWorld) -> None:
    conversations = world.conversations
    # then every channel of the desk has conversations, and all three languages are spoken
    assert set(Counter(c.channel for c in conversations)) == CHANNELS
    languages = Counter(world.customers[c.customer]["language"] for c in conversations)
    assert set(languages) == {"nl", "pl", "en"} and min(languages.values()) > 100
    # and each is handled by the team of the customer's language, by an agent of that team
    for c in conversations:
        team = TEAM_OF_LANGUAGE[world.customers[c.customer]["language"]]
        assert c.team == team
        assert c.agent in {a.email for a in DEMO_TEAMS[team]}
    # and the agents' replies are written in the customer's language
    sample = [c for c in conversations if c.channel == "email"][:60]
    for c in sample:
        reply = next(m.body for m in c.messages if m.author == "agent")
        language = world.customers[c.customer]["language"]
        assert detect_language(reply, ("en", "nl", "pl")).language == language, reply


def test_the_customer_writes_first_and_the_bot_only_opens_messaging(world: DemoWorld) -> None:
    conversations = world.conversations
    for c in conversations:
        assert c.messages[0].direction == "inbound" and c.messages[0].author == "customer"
        assert list(c.messages) == sorted(c.messages)
        assert all(m.at.date() < TODAY for m in c.messages)
        assert list(c.resolutions) == sorted(c.resolutions)
    with_bot = [c for c in conversations if any(m.author == "bot" for m in c.messages)]
    assert with_bot and {c.channel for c in with_bot} <= CHANNELS - {"email", "web_form", "voice"}
    # and most are resolved, some reopened, some still open
    resolved = [c for c in conversations if c.resolutions]
    reopened = [
        c
        for c in conversations
        if c.resolutions
        and any(m.at > c.resolutions[0] and m.direction == "inbound" for m in c.messages)
    ]
    open_now = [c for c in conversations if not c.resolutions]
    assert len(resolved) > 0.85 * len(conversations)
    assert 0.03 * len(conversations) < len(reopened) < 0.2 * len(conversations)
    assert open_now


def test_the_desk_answers_slower_while_lento_complaints_pile_up(world: DemoWorld) -> None:
    # given the chats, which are answered in minutes
    start = world.campaign.late_from
    story = [
        s
        for c in world.conversations
        if c.channel == "chat"
        and start <= c.messages[0].at.date() < world.campaign.late_until
        and (s := first_reply_seconds(c)) is not None
    ]
    rest = [
        s
        for c in world.conversations
        if c.channel == "chat"
        and not start - timedelta(days=7) <= c.messages[0].at.date() < TODAY
        and (s := first_reply_seconds(c)) is not None
    ]
    # then while the story runs the median first reply is clearly slower
    assert statistics.median(story) > 1.5 * statistics.median(rest)
    # and late Lento deliveries bring conversations tagged with the reason, at high priority
    lento = [c for c in world.conversations if c.priority == "high"]
    assert len(lento) > 30 and all("late_delivery" in c.tags for c in lento)
    assert CAMPAIGN_SKU  # the story's product


def test_the_same_seed_plans_the_same_conversations() -> None:
    first = build_world(customers=300, seed=7, today=TODAY)
    again = build_world(customers=300, seed=7, today=TODAY)
    assert first.conversations == again.conversations
    assert first.channel_identities == again.channel_identities


def test_the_conversations_load_by_the_service_desks_rules(db_session: Session) -> None:
    # given a small world loaded through the services
    world = build_world(customers=500, seed=11, today=TODAY)
    report = load_world(world)
    org_id = report.org_id
    stored = db_session.scalars(
        select(Conversation).where(Conversation.org_id == org_id).order_by(Conversation.id)
    ).all()
    # then every planned conversation is stored, with its state following from its messages
    assert len(stored) == len(world.conversations) == report.rows["conversations"]
    emails = {u.id: u.email for u in auth_service.list_users(db_session, org_id=org_id)}
    for row, planned in zip(stored, world.conversations, strict=True):
        assert row.channel.value == planned.channel
        assert emails[row.assignee_id] == planned.agent
        reply = next((m.at for m in planned.messages if m.author == "agent"), None)
        assert row.first_response_at == reply
        assert row.created_at == planned.messages[0].at
        if not planned.resolutions or planned.resolutions[-1] < planned.messages[-1].at:
            assert row.status is ConversationStatus.open and row.resolved_at is None
        else:
            assert row.resolved_at == planned.resolutions[-1]
            assert row.status in (ConversationStatus.resolved, ConversationStatus.closed)
    assert sum(r.reopened_count for r in stored) > 0
    messages = db_session.scalars(select(Message).where(Message.org_id == org_id)).all()
    assert len(messages) == report.rows["conversation messages"]
    # and the customer is the one the channel's identity names (as an inbound message finds it)
    kinds = {
        "email": (IdentityKind.email, ""),
        "whatsapp": (IdentityKind.phone, ""),
        "voice": (IdentityKind.phone, ""),
        "telegram": (IdentityKind.social, "telegram"),
        "chat": (IdentityKind.external, "webchat"),
        "instagram": (IdentityKind.social, "instagram"),
        "messenger": (IdentityKind.social, "messenger"),  # as the Messenger adapter says
    }
    by_id = {row.id: row for row in stored}
    checked: Counter[str] = Counter()
    for message in messages:
        row = by_id[message.conversation_id]
        if message.direction.value != "inbound" or row.channel.value not in kinds:
            continue
        if message.address is None:
            continue
        kind, namespace = kinds[row.channel.value]
        found = customers_service.find_customer_id(
            db_session, org_id=org_id, kind=kind, value=message.address, namespace=namespace
        )
        assert found == row.customer_id
        checked[row.channel.value] += 1
    assert set(checked) == set(kinds)
    # and every CSAT after a service contact names its conversation, handled by the agent it credits
    invitations = db_session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.org_id == org_id, SurveyInvitation.conversation_id.is_not(None)
        )
    ).all()
    service_invitations = sum(1 for i in world.feedback if i.survey == "service")
    assert len(invitations) == service_invitations > 20
    # (a customer who wrote again to the same conversation may have met another agent then)
    same = sum(by_id[i.conversation_id].assignee_id == i.agent_id for i in invitations)
    assert same >= 0.95 * len(invitations)
    # and after the sync the measures count the same conversations per channel
    sync_to_analytics()
    rows = analytics.compute_service_desk_measures(
        db_session,
        org_id=org_id,
        by="channel",
        grain="none",
        start=TODAY - timedelta(days=400),
        end=TODAY,
    )
    assert {r.key: r.conversations for r in rows} == Counter(c.channel for c in world.conversations)
