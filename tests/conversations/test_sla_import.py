"""Conversations imported whole get the SLA clocks live ones would have had.

A Tuesday three weeks ago, 10:00 UTC (11:00 in Amsterdam, the desk open 09:00-17:00):

| conv | channel | first reply | resolved | SLA (default targets) |
|---|---|---|---|---|
| A | chat | 1 min | 1 h | both met in time (2 min, 4 h) |
| B | chat | 10 min | 2 h | first response breached, resolution in time |
| C | email | - | - | open: both overdue now (8 h, 24 business hours) |
| D | email | 30 min | 1 h, reopened at 2 h, 3 h | both in time; resolution from the reopen |
| E | email | (agent's outbound only) | - | no customer message: no clock |
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.conversations import service, sla, sla_metrics
from opencx.conversations.schemas import ConversationImport, InboxView
from tests.conftest import Tenant
from tests.surveys.conftest import make_customer

TODAY = datetime.now(UTC).date()
TUESDAY = TODAY - timedelta(days=TODAY.weekday() + 21 - 1)
T = datetime.combine(TUESDAY, time(10), tzinfo=UTC)


def _message(name: str, direction: str, minutes: float) -> dict[str, Any]:
    return {
        "direction": direction,
        "author_kind": "customer" if direction == "inbound" else "agent",
        "body": "...",
        "channel_message_id": f"{name}-{minutes}",
        "sent_at": (T + timedelta(minutes=minutes)).isoformat(),
    }


def _item(
    customer_id: int,
    name: str,
    channel: str,
    replies: list[float],
    resolved: list[float],
    **more: Any,
) -> ConversationImport:
    inbound = more.pop("inbound", [0])
    messages = [_message(name, "inbound", m) for m in inbound]
    messages += [_message(name, "outbound", m) for m in replies]
    return ConversationImport.model_validate(
        {
            "customer_id": customer_id,
            "channel": channel,
            "messages": messages,
            "resolutions": [(T + timedelta(minutes=m)).isoformat() for m in resolved],
        }
    )


def _import(db: Session, tenant: Tenant) -> dict[str, int]:
    customer = make_customer(db, tenant.org_id, "Emma", "en")
    items = {
        "A": _item(customer, "a", "chat", [1], [60]),
        "B": _item(customer, "b", "chat", [10], [120]),
        "C": _item(customer, "c", "email", [], []),
        "D": _item(customer, "d", "email", [30], [60, 180], inbound=[0, 120]),
        "E": _item(customer, "e", "email", [5], [], inbound=[]),
    }
    ids = service.import_conversations(db, org_id=tenant.org_id, items=list(items.values()))
    db.commit()
    return dict(zip(items, ids, strict=True))


def test_imported_conversations_get_their_clocks_met_or_breached(
    db_session: Session, tenant: Tenant
) -> None:
    # given a small import of past conversations
    ids = _import(db_session, tenant)

    def clocks(name: str):  # type: ignore[no-untyped-def]
        return sla.get_conversation_sla(db_session, org_id=tenant.org_id, conversation_id=ids[name])

    # then each clock started at the customer's first message, met or breached by the rules
    a, b, c, d = clocks("A"), clocks("B"), clocks("C"), clocks("D")
    assert a.started_at == T and a.first_response_met_at == T + timedelta(minutes=1)
    assert a.first_response_breached_at is None and a.resolution_breached_at is None
    assert a.resolution_met_at == T + timedelta(hours=1)
    assert b.first_response_due_at == T + timedelta(minutes=2)
    assert b.first_response_breached_at == T + timedelta(minutes=2)
    assert b.resolution_breached_at is None
    # the open email: both targets ran out long ago, marked breached at their due moments
    assert c.first_response_met_at is None and c.resolution_met_at is None
    assert c.first_response_breached_at == c.first_response_due_at is not None
    assert c.resolution_breached_at == c.resolution_due_at is not None
    # the reopened email: its resolution clock counts from the reopening message
    assert d.resolution_met_at == T + timedelta(hours=3)
    assert d.resolution_elapsed_seconds == 3600 and d.resolution_breached_at is None
    # and a conversation the desk started (no customer message) has no clock
    assert clocks("E") is None


def test_attainment_and_the_breaching_queue_follow_the_import(
    db_session: Session, tenant: Tenant
) -> None:
    # given the import, synced to the analytics store
    ids = _import(db_session, tenant)
    sync_to_analytics()
    # when attainment per channel is asked for the weeks around it
    rows = sla_metrics.compute_sla_attainment(
        org_id=tenant.org_id, start=TUESDAY - timedelta(days=7), end=TODAY + timedelta(days=1)
    )
    by_channel = {row.group: row for row in rows}
    # then chat met one first response of two and both resolutions; email one of two each
    chat, email = by_channel["chat"], by_channel["email"]
    assert (chat.first_response_met, chat.first_response_decided) == (1, 2)
    assert (chat.resolution_met, chat.resolution_decided) == (2, 2)
    assert (email.first_response_met, email.first_response_decided) == (1, 2)
    assert (email.resolution_met, email.resolution_decided) == (1, 2)
    # and the open overdue email is in the Breaching queue, alone
    inbox = service.get_inbox(db_session, org_id=tenant.org_id, user_id=1, view=InboxView.breaching)
    assert [row.conversation.id for row in inbox.rows] == [ids["C"]]
