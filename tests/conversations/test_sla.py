"""SLA clocks and breach detection with a controlled clock (the issue's done-criterion)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx.cli import app as cli_app
from opencx.conversations import service, sla, tasks
from opencx.conversations.models import ConversationPriority, ConversationStatus
from opencx.conversations.schemas import (
    AssignIn,
    BusinessHoursIn,
    ConversationPatch,
    InboundMessageIn,
    InboxView,
    OpeningPeriodIn,
    ReplyIn,
    SlaPolicyIn,
    SlaState,
)
from opencx.live import hub
from tests.conftest import Tenant, make_tenant

# Tuesday 1 December 2026, 10:00 in Amsterdam (09:00 UTC): the desk is open 09:00-17:00.
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _message(
    channel: str = "email", sender: str = "anna@example.com", at: datetime = T0, n: int = 1
) -> InboundMessageIn:
    identity = (
        {"kind": "email", "value": sender}
        if channel == "email"
        else {"kind": "social", "namespace": channel, "value": sender}
    )
    return InboundMessageIn.model_validate(
        {
            "channel": channel,
            "channel_message_id": f"{sender}-{n}",
            "sender": identity,
            "subject": "Waar is mijn bestelling?",
            "body": "Mijn pakket is niet geleverd.",
            "received_at": at.isoformat(),
        }
    )


def _new(db: Session, tenant: Tenant, **kwargs: object) -> int:
    result = service.record_inbound_message(db, org_id=tenant.org_id, data=_message(**kwargs))  # type: ignore[arg-type]
    db.commit()
    return result.conversation.id


def _clocks(db: Session, tenant: Tenant, conversation_id: int):  # type: ignore[no-untyped-def]
    db.expire_all()
    found = sla.get_conversation_sla(db, org_id=tenant.org_id, conversation_id=conversation_id)
    assert found is not None
    return found


def test_a_new_conversation_gets_the_default_targets_of_its_channel(
    db_session: Session, tenant: Tenant
) -> None:
    # when a WhatsApp message and an email arrive on Tuesday 10:00 Amsterdam time
    chat = _new(db_session, tenant, channel="whatsapp", sender="+31611111111")
    mail = _new(db_session, tenant, channel="email")
    # then WhatsApp's first response is due in 30 minutes, email's in 8 business hours
    social = _clocks(db_session, tenant, chat)
    assert social.first_response_target_minutes == 30 and social.policy_id is None
    assert social.first_response_due_at == T0 + timedelta(minutes=30)
    email = _clocks(db_session, tenant, mail)
    assert email.first_response_target_minutes == 480
    # 7 hours on Tuesday (10:00-17:00), one on Wednesday: 09:00 UTC on 2 December
    assert email.first_response_due_at == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert email.resolution_target_minutes == 24 * 60


def test_a_breach_is_detected_once_with_a_controlled_clock(
    db_session: Session, tenant: Tenant
) -> None:
    # given a WhatsApp conversation (first response due 09:30 UTC)
    conversation_id = _new(db_session, tenant, channel="whatsapp", sender="+31622222222")
    # when the check runs at 09:20: 10 of 30 minutes left, not yet 20% left
    early = tasks.check_slas(now=T0 + timedelta(minutes=20))
    assert (early.warned, early.first_response_breached) == (0, 0)
    # at 09:25, 5 minutes (under 20%) are left: about to breach
    warned = tasks.check_slas(now=T0 + timedelta(minutes=25))
    assert warned.warned == 1 and warned.first_response_breached == 0
    inbox = service.get_inbox(
        db_session,
        org_id=tenant.org_id,
        user_id=1,
        view=InboxView.breaching,
        now=T0 + timedelta(minutes=25),
    )
    assert [r.conversation.id for r in inbox.rows] == [conversation_id]
    assert inbox.rows[0].sla is not None and inbox.rows[0].sla.state is SlaState.warning
    # when the check runs at 09:31, and again
    breached = tasks.check_slas(now=T0 + timedelta(minutes=31))
    again = tasks.check_slas(now=T0 + timedelta(minutes=32))
    # then the breach is marked once, at the due moment
    assert breached.first_response_breached == 1 and breached.warned == 0
    assert again.first_response_breached == 0 and again.warned == 0
    clocks = _clocks(db_session, tenant, conversation_id)
    assert clocks.first_response_breached_at == T0 + timedelta(minutes=30)
    # and an agent's late answer meets the target without undoing the breach
    service.reply_to_conversation(
        db_session,
        org_id=tenant.org_id,
        conversation_id=conversation_id,
        data=ReplyIn(body="Sorry, we kijken het na."),
        now=T0 + timedelta(minutes=40),
    )
    db_session.commit()
    clocks = _clocks(db_session, tenant, conversation_id)
    assert clocks.first_response_met_at == T0 + timedelta(minutes=40)
    assert clocks.first_response_breached_at == T0 + timedelta(minutes=30)


def test_a_reply_in_time_meets_the_target_and_nothing_breaches(
    db_session: Session, tenant: Tenant
) -> None:
    conversation_id = _new(db_session, tenant, channel="chat", sender="visitor-1")
    service.reply_to_conversation(
        db_session,
        org_id=tenant.org_id,
        conversation_id=conversation_id,
        data=ReplyIn(body="Hallo!"),
        now=T0 + timedelta(minutes=1),
    )
    db_session.commit()
    report = tasks.check_slas(now=T0 + timedelta(minutes=10))
    clocks = _clocks(db_session, tenant, conversation_id)
    assert report.first_response_breached == 0
    assert clocks.first_response_met_at == T0 + timedelta(minutes=1)
    assert clocks.first_response_breached_at is None


def test_the_breach_check_announces_breaches_on_the_inbox_topic(
    db_session: Session, tenant: Tenant
) -> None:
    # given an agent's inbox listening live
    conversation_id = _new(db_session, tenant, channel="telegram", sender="4242")

    async def listen() -> list[dict[str, object]]:
        with hub.subscription(service.inbox_topic(tenant.org_id)) as subscription:
            await asyncio.to_thread(tasks.check_slas, now=T0 + timedelta(hours=1))
            return [await asyncio.wait_for(subscription.queue.get(), 5)]

    # when the check finds the breach, then the inbox hears of it after the commit
    events = asyncio.run(listen())
    assert events == [
        {
            "type": "sla",
            "conversation_id": conversation_id,
            "sla": "breached",
            "target": "first_response",
            "due_at": (T0 + timedelta(minutes=30)).isoformat(),
        }
    ]


def test_waiting_on_the_customer_pauses_the_resolution_clock(
    db_session: Session, tenant: Tenant
) -> None:
    # given a chat (resolution 4 business hours) answered at once
    org = tenant.org_id
    conversation_id = _new(db_session, tenant, channel="chat", sender="visitor-2")
    service.reply_to_conversation(
        db_session, org_id=org, conversation_id=conversation_id, data=ReplyIn(body="Hoi"), now=T0
    )
    db_session.commit()
    assert _clocks(db_session, tenant, conversation_id).resolution_due_at == T0 + timedelta(hours=4)
    # when it waits on the customer from 10:00 UTC (one hour used) until the next day 09:00
    service.update_conversation(
        db_session,
        org_id=org,
        conversation_id=conversation_id,
        changes=ConversationPatch(status=ConversationStatus.pending),
        now=T0 + timedelta(hours=1),
    )
    db_session.commit()
    paused = _clocks(db_session, tenant, conversation_id)
    assert paused.resolution_elapsed_seconds == 3600
    # then nothing breaches while it waits, and the inbox shows it paused
    assert tasks.check_slas(now=T0 + timedelta(hours=6)).resolution_breached == 0
    inbox = service.get_inbox(db_session, org_id=org, user_id=1, now=T0 + timedelta(hours=6))
    assert inbox.rows[0].sla is not None and inbox.rows[0].sla.state is SlaState.paused
    # when the customer answers the next morning at 10:00 Amsterdam (09:00 UTC)
    service.record_inbound_message(
        db_session,
        org_id=org,
        data=_message("chat", "visitor-2", T0 + timedelta(days=1), n=2),
    )
    db_session.commit()
    # then the clock runs on with the three hours left
    resumed = _clocks(db_session, tenant, conversation_id)
    assert resumed.resolution_due_at == T0 + timedelta(days=1, hours=3)


def test_resolving_late_marks_the_breach_and_reopening_restarts_the_resolution_clock(
    db_session: Session, tenant: Tenant
) -> None:
    org = tenant.org_id
    conversation_id = _new(db_session, tenant, channel="whatsapp", sender="+31633333333")
    # when it is resolved after its 8 business hours (Tuesday 10:00 -> Wednesday 11:00)
    service.update_conversation(
        db_session,
        org_id=org,
        conversation_id=conversation_id,
        changes=ConversationPatch(status=ConversationStatus.resolved),
        now=T0 + timedelta(days=1, hours=1),
    )
    db_session.commit()
    clocks = _clocks(db_session, tenant, conversation_id)
    # then it is met and breached (due Wednesday 10:00 Amsterdam), without a check in between
    assert clocks.resolution_met_at == T0 + timedelta(days=1, hours=1)
    assert clocks.resolution_breached_at == T0 + timedelta(days=1)
    # when the customer writes again on Thursday 10:00 Amsterdam
    service.record_inbound_message(
        db_session, org_id=org, data=_message("whatsapp", "+31633333333", T0 + timedelta(days=2), 2)
    )
    db_session.commit()
    reopened = _clocks(db_session, tenant, conversation_id)
    # then a new resolution clock runs from then; the earlier breach stays recorded
    assert reopened.resolution_met_at is None
    assert reopened.resolution_due_at == T0 + timedelta(days=3)
    assert reopened.resolution_breached_at == T0 + timedelta(days=1)


def test_urgent_tightens_the_targets_and_a_policy_and_team_hours_apply(
    db_session: Session, tenant: Tenant
) -> None:
    org = tenant.org_id
    conversation_id = _new(db_session, tenant, channel="email", sender="urgent@example.com")
    # when it becomes urgent: 8 h / 4 = 2 business hours
    service.update_conversation(
        db_session,
        org_id=org,
        conversation_id=conversation_id,
        changes=ConversationPatch(priority=ConversationPriority.urgent),
        now=T0,
    )
    assert _clocks(db_session, tenant, conversation_id).first_response_due_at == T0 + timedelta(
        hours=2
    )
    # when team "Service PL" has its own policy (60 min, calendar time) and 24/7 hours
    policy = sla.set_sla_policy(
        db_session,
        org_id=org,
        data=SlaPolicyIn(
            team="Service PL",
            channel="email",
            priority="urgent",
            first_response_minutes=60,
            resolution_minutes=600,
            business_hours=False,
        ),
    )
    service.assign_conversation(
        db_session, org_id=org, conversation_id=conversation_id, data=AssignIn(team="Service PL")
    )
    db_session.commit()
    clocks = _clocks(db_session, tenant, conversation_id)
    # then the team's policy counts from the first message
    assert clocks.policy_id == policy.id and clocks.business_hours is False
    assert clocks.first_response_due_at == T0 + timedelta(hours=1)
    assert clocks.resolution_due_at == T0 + timedelta(hours=10)


def test_team_hours_with_a_holiday_move_the_due_moment(db_session: Session, tenant: Tenant) -> None:
    org = tenant.org_id
    # given the Polish team works 08:00-16:00 Warsaw time, and Wednesday is a holiday
    sla.set_business_hours(
        db_session,
        org_id=org,
        data=BusinessHoursIn(
            team="Service PL",
            time_zone="Europe/Warsaw",
            periods=[OpeningPeriodIn(weekday=d, opens=time(8), closes=time(16)) for d in range(5)],
            holidays=[date(2026, 12, 2)],
        ),
    )
    conversation_id = _new(db_session, tenant, channel="email", sender="jan@example.pl")
    service.assign_conversation(
        db_session, org_id=org, conversation_id=conversation_id, data=AssignIn(team="Service PL")
    )
    db_session.commit()
    # then 8 business hours from Tuesday 10:00 Warsaw: 6 on Tuesday, 2 on Thursday (08-10)
    assert _clocks(db_session, tenant, conversation_id).first_response_due_at == datetime(
        2026, 12, 3, 9, 0, tzinfo=UTC
    )


def test_a_merged_conversation_loses_its_clocks_and_tenants_are_apart(
    db_session: Session, tenant: Tenant
) -> None:
    org = tenant.org_id
    survivor = _new(db_session, tenant, channel="email", sender="a@example.com")
    duplicate = _new(db_session, tenant, channel="email", sender="a@example.com", n=2)
    service.merge_conversations(db_session, org_id=org, survivor_id=survivor, merged_id=duplicate)
    db_session.commit()
    assert sla.get_conversation_sla(db_session, org_id=org, conversation_id=duplicate) is None
    other = make_tenant(db_session, "other-sla")
    db_session.commit()
    assert (
        sla.get_conversation_sla(db_session, org_id=other.org_id, conversation_id=survivor) is None
    )
    # and a breach check of one organization leaves the other's alone
    report = tasks.check_slas(now=T0 + timedelta(days=30))
    assert report.first_response_breached == 1


def test_opencx_sla_check_runs_one_round(db_session: Session, tenant: Tenant) -> None:
    # given a conversation whose first response is long overdue (the CLI uses the real clock)
    a_week_ago = datetime.now(UTC) - timedelta(days=7)
    _new(db_session, tenant, channel="chat", sender="visitor-cli", at=a_week_ago)
    # when the command runs twice
    runner = CliRunner()
    first = runner.invoke(cli_app, ["sla", "check"])
    second = runner.invoke(cli_app, ["sla", "check"])
    # then the breach is reported once
    assert first.exit_code == 0, first.output
    assert first.output.startswith("1 first responses breached")
    assert second.output.startswith("0 first responses breached")


@pytest.mark.parametrize(
    ("channel", "first", "resolution"),
    [("chat", 2, 240), ("instagram", 30, 480), ("web_form", 480, 1440), ("voice", 60, 480)],
)
def test_built_in_defaults_per_channel(channel: str, first: int, resolution: int) -> None:
    normal = sla.default_policy(channel, ConversationPriority.normal)  # type: ignore[arg-type]
    high = sla.default_policy(channel, ConversationPriority.high)  # type: ignore[arg-type]
    assert (normal.first_response_minutes, normal.resolution_minutes) == (first, resolution)
    assert high.first_response_minutes == max(1, first // 2)
