"""Reminders: one email, in the customer's language, to an emailed invitation left unanswered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.customers import service as customers
from opencx.customers.schemas import ConsentIn
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation
from opencx.surveys.schemas import InvitationIn
from opencx.surveys.tasks import dispatch_due_work
from tests.surveys.conftest import Mailbox, World, make_customer, wait_for_jobs


def _email_invite(session: Session, world: World, customer_id: int, valid_days: int = 14) -> int:
    invitation = service.create_invitation(
        session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(
            customer_id=customer_id, channel="email", send_email=True, valid_days=valid_days
        ),
    )
    session.commit()
    return invitation.id


def _sent_at(session: Session, invitation_id: int) -> datetime:
    session.expire_all()
    sent_at = session.scalar(
        select(SurveyInvitation.sent_at).where(SurveyInvitation.id == invitation_id)
    )
    assert sent_at is not None
    return sent_at


def _set_reminder_days(session: Session, org_id: int, days: int) -> None:
    org = auth.get_organization(session, org_id=org_id)
    org.settings = {**org.settings, service.REMINDER_SETTING: days}
    session.commit()


def test_an_unanswered_invitation_gets_exactly_one_reminder_after_three_days(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given emailed invitations: Anna (Dutch) does not answer; Piotr answers completely; Jane
    # withdraws her consent; Brief's invitation expires after two days
    anna = _email_invite(db_session, world, world.anna_id)
    piotr = _email_invite(db_session, world, world.piotr_id)
    jane = _email_invite(db_session, world, world.jane_id)
    brief_id = make_customer(db_session, world.org_id, "Brief", "en", channel="email")
    _email_invite(db_session, world, brief_id, valid_days=2)
    wait_for_jobs()
    assert len(mailbox.messages) == 4
    service.record_answers(
        db_session,
        token=service.get_invitation(db_session, org_id=world.org_id, invitation_id=piotr).token,
        form={"shown": ["score", "why"], "q_score": ["9"]},
    )
    customers.record_consent(
        db_session,
        org_id=world.org_id,
        customer_id=world.jane_id,
        consent=ConsentIn(purpose="surveys", channel="any", status="withdrawn", source="call"),
    )
    db_session.commit()
    sent_at = _sent_at(db_session, anna)
    # when the dispatcher runs two days later, then nobody is reminded yet
    assert dispatch_due_work(now=sent_at + timedelta(days=2)).reminded == 0
    # when it runs three days after the email
    report = dispatch_due_work(now=sent_at + timedelta(days=3, minutes=1))
    # then only Anna gets a reminder, in Dutch, with the same link
    assert report.reminded == 1
    invitation, reminder = mailbox.to("anna@example.com")
    assert reminder["Subject"] == "Herinnering: een korte vraag over uw ervaring met Acme"
    token = service.get_invitation(db_session, org_id=world.org_id, invitation_id=anna).token
    assert f"/s/{token}" in reminder.get_content() and f"/s/{token}" in invitation.get_content()
    assert len(mailbox.to("piotr@example.com")) == len(mailbox.to("jane@example.com")) == 1
    assert len(mailbox.to("brief@example.com")) == 1
    db_session.expire_all()
    reminded = service.get_invitation(db_session, org_id=world.org_id, invitation_id=anna)
    assert reminded.reminded_at == sent_at + timedelta(days=3, minutes=1)
    assert (
        service.get_invitation(db_session, org_id=world.org_id, invitation_id=jane).reminded_at
        is None
    )
    # when the dispatcher runs again later, then there is no second reminder
    assert dispatch_due_work(now=sent_at + timedelta(days=5)).reminded == 0
    assert len(mailbox.to("anna@example.com")) == 2


def test_the_organization_chooses_the_delay_or_no_reminders(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given reminders turned off, and Anna's emailed invitation unanswered
    _set_reminder_days(db_session, world.org_id, 0)
    anna = _email_invite(db_session, world, world.anna_id)
    wait_for_jobs()
    sent_at = _sent_at(db_session, anna)
    # then no reminder goes out, however late
    assert dispatch_due_work(now=sent_at + timedelta(days=10)).reminded == 0
    # when the organization asks for a reminder after one day, then it goes out after one day
    _set_reminder_days(db_session, world.org_id, 1)
    assert dispatch_due_work(now=sent_at + timedelta(hours=23)).reminded == 0
    assert dispatch_due_work(now=sent_at + timedelta(days=1)).reminded == 1
    assert len(mailbox.to("anna@example.com")) == 2


def test_a_reminder_the_smtp_server_refuses_is_tried_again_next_round(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    anna = _email_invite(db_session, world, world.anna_id)
    wait_for_jobs()
    sent_at = _sent_at(db_session, anna)
    # given the SMTP server refuses the next message
    mailbox.refuse_next = 1
    # when the reminder is due, then it is not recorded as sent
    assert dispatch_due_work(now=sent_at + timedelta(days=3)).reminded == 0
    db_session.expire_all()
    assert (
        service.get_invitation(db_session, org_id=world.org_id, invitation_id=anna).reminded_at
        is None
    )
    # and the next round delivers it, once
    assert dispatch_due_work(now=sent_at + timedelta(days=3, hours=1)).reminded == 1
    assert len(mailbox.to("anna@example.com")) == 2 and mailbox.refused == 1
