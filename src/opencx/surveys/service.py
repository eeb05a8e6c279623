"""Surveys: definitions and versions, invitations with signed tokens, answers, feedback timeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from opencx import jobs
from opencx.auth import service as auth
from opencx.commerce import service as commerce
from opencx.commerce.interactions import CommerceInteraction, register_interaction_handler
from opencx.customers import service as customers
from opencx.customers.gdpr import register_erasure_hook, register_export_source
from opencx.customers.models import ConsentChannel, ConsentPurpose, IdentityKind
from opencx.customers.timeline import TimelineEntry, register_timeline_source
from opencx.db import utcnow
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.settings import get_settings
from opencx.surveys import invitation_mail
from opencx.surveys.follow_ups import service as follow_ups
from opencx.surveys.models import (
    EmailSendStatus,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveyStatus,
    SurveyTrigger,
    SurveyVersion,
)
from opencx.surveys.schemas import (
    InteractionIn,
    InvitationIn,
    InvitationOut,
    QuestionIn,
    QuestionKind,
    ResponseOut,
    SkippedSurvey,
    SurveyIn,
    SurveyOut,
    TriggerReport,
    survey_language,
)
from opencx.surveys.standard_questions import STANDARD_QUESTIONS
from opencx.webhooks import service as webhooks

THROTTLE_SETTING = "survey_throttle_days"
DEFAULT_THROTTLE_DAYS = 30
REMINDER_SETTING = "survey_reminder_days"
DEFAULT_REMINDER_DAYS = 3
MAX_TEXT_ANSWER = 5000
# An interaction older than this (an imported historical order) invites nobody: the default
# validity of an invitation, so nobody is asked about something long past.
RECENT_INTERACTION = timedelta(days=14)
# A send claimed longer ago than this was cut off mid hand-over (the process stopped).
STALE_SEND = timedelta(minutes=15)
# How long a public-link respondent's own link (and its browser cookie) stays valid.
PUBLIC_RESPONSE_DAYS = 90
LINK_CHANNEL = "link"
# Invitations to email once the transaction that stored them commits (see _send_after_commit).
_PENDING_SENDS = "opencx_survey_email_sends"
# Webhook events: the first submit of a token creates its response, later submits update it.
RESPONSE_CREATED = "survey.response.created"
RESPONSE_UPDATED = "survey.response.updated"


class InvitationRefused(Conflict):
    """The customer may not be invited now (no consent, or invited too recently)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailNotSent(Conflict):
    """The invitation email cannot go out (email off, no address); nothing is stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SurveyLinkExpired(Exception):
    """A correctly signed link past its expiry, or to a closed survey."""


# ---- definitions and versions ---------------------------------------------------------------


def _check_questions(questions: list[QuestionIn]) -> None:
    keys: set[str] = set()
    by_key: dict[str, QuestionIn] = {}
    for index, question in enumerate(questions):
        if question.key in keys:
            raise InvalidInput("questions", f"question {index}: key {question.key!r} is repeated")
        condition = question.show_if
        if condition is not None:
            target = by_key.get(condition.question)
            if target is None:
                raise InvalidInput(
                    "questions",
                    f"question {index}: show_if must name an earlier question, "
                    f"not {condition.question!r}",
                )
            if condition.any_of is not None and target.kind not in (
                QuestionKind.single_choice,
                QuestionKind.multiple_choice,
            ):
                raise InvalidInput("questions", f"question {index}: any_of needs a choice question")
            if condition.any_of is None and target.kind is not QuestionKind.rating:
                raise InvalidInput(
                    "questions", f"question {index}: at_most/at_least need a rating question"
                )
        keys.add(question.key)
        by_key[question.key] = question


def _dump(questions: list[QuestionIn]) -> list[dict[str, Any]]:
    return [q.model_dump(mode="json", exclude_none=True) for q in questions]


def _questions(version: SurveyVersion) -> list[QuestionIn]:
    return [QuestionIn.model_validate(q) for q in version.questions]


def _newest_version(session: Session, survey: Survey) -> SurveyVersion:
    version = session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.org_id == survey.org_id, SurveyVersion.survey_id == survey.id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    ).one()
    return version


def _published_version(session: Session, survey: Survey) -> SurveyVersion | None:
    return session.scalars(
        select(SurveyVersion)
        .where(
            SurveyVersion.org_id == survey.org_id,
            SurveyVersion.survey_id == survey.id,
            SurveyVersion.published_at.is_not(None),
        )
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    ).one_or_none()


def _survey_out(session: Session, survey: Survey) -> SurveyOut:
    version = _newest_version(session, survey)
    return SurveyOut(
        id=survey.id,
        name=survey.name,
        kind=survey.kind,
        status=survey.status,
        trigger=survey.trigger,
        period_days=survey.period_days,
        public_link_enabled=survey.public_link_enabled,
        public_path=f"/s/p/{survey.public_token}"
        if survey.public_link_enabled and survey.public_token
        else None,
        version_id=version.id,
        version=version.number,
        published_at=version.published_at,
        questions=_questions(version),
        created_at=survey.created_at,
    )


def _get_survey(session: Session, *, org_id: int, survey_id: int) -> Survey:
    survey = session.scalars(
        select(Survey).where(Survey.org_id == org_id, Survey.id == survey_id)
    ).one_or_none()
    if survey is None:
        raise NotFound("survey", survey_id)
    return survey


def create_survey(session: Session, *, org_id: int, data: SurveyIn) -> SurveyOut:
    """A new draft survey from a template's questions or custom questions (version 1)."""
    questions = data.questions
    if questions is None:
        if data.kind is SurveyKind.custom:
            raise InvalidInput("questions", "a custom survey needs questions")
        questions = STANDARD_QUESTIONS[data.kind]
    _check_questions(questions)
    if (data.trigger is SurveyTrigger.periodic) != (data.period_days is not None):
        raise InvalidInput("period_days", "give period_days with trigger periodic, and only then")
    survey = Survey(
        org_id=org_id,
        name=data.name,
        kind=data.kind,
        status=SurveyStatus.draft,
        trigger=data.trigger,
        period_days=data.period_days,
    )
    session.add(survey)
    session.flush()
    session.add(
        SurveyVersion(org_id=org_id, survey_id=survey.id, number=1, questions=_dump(questions))
    )
    session.flush()
    return _survey_out(session, survey)


def get_survey(session: Session, *, org_id: int, survey_id: int) -> SurveyOut:
    """One survey with its newest version's questions."""
    return _survey_out(session, _get_survey(session, org_id=org_id, survey_id=survey_id))


def list_surveys(session: Session, *, org_id: int) -> list[SurveyOut]:
    """Every survey of the organization, newest first."""
    surveys = session.scalars(
        select(Survey).where(Survey.org_id == org_id).order_by(Survey.id.desc())
    ).all()
    return [_survey_out(session, s) for s in surveys]


def update_survey_questions(
    session: Session, *, org_id: int, survey_id: int, questions: list[QuestionIn]
) -> SurveyOut:
    """Change the questions: a draft version in place, a published one by a new draft version."""
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    if survey.status is SurveyStatus.closed:
        raise Conflict(f"survey {survey_id} is closed")
    _check_questions(questions)
    newest = _newest_version(session, survey)
    if newest.published_at is None:
        newest.questions = _dump(questions)
    else:
        session.add(
            SurveyVersion(
                org_id=org_id,
                survey_id=survey.id,
                number=newest.number + 1,
                questions=_dump(questions),
            )
        )
    session.flush()
    return _survey_out(session, survey)


def publish_survey(session: Session, *, org_id: int, survey_id: int) -> SurveyOut:
    """Publish the newest version (it becomes immutable) and make the survey active."""
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    newest = _newest_version(session, survey)
    if newest.published_at is None:
        newest.published_at = utcnow()
    survey.status = SurveyStatus.active
    session.flush()
    return _survey_out(session, survey)


def close_survey(session: Session, *, org_id: int, survey_id: int) -> SurveyOut:
    """Stop accepting answers and invitations."""
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    survey.status = SurveyStatus.closed
    session.flush()
    return _survey_out(session, survey)


def update_public_link(
    session: Session, *, org_id: int, survey_id: int, enabled: bool, rotate: bool = False
) -> SurveyOut:
    """Turn the anonymous public link on or off; `rotate` gives it a new token (the old one dies)."""
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    if rotate or (enabled and survey.public_token is None):
        survey.public_token = secrets.token_urlsafe(24)
    survey.public_link_enabled = enabled
    session.flush()
    return _survey_out(session, survey)


# ---- invitations and their signed tokens ----------------------------------------------------

_TOKEN = re.compile(r"^(\d{1,19})-(\d{1,12})-([A-Za-z0-9_-]{22})$")


def _signature(invitation_id: int, expires: int) -> str:
    key = get_settings().resolved_secret_key().encode()
    digest = hmac.new(key, f"survey-invitation:{invitation_id}:{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode()[:22]


def invitation_token(invitation_id: int, expires_at: datetime) -> str:
    """The signed token of an invitation's public link: id, expiry and an HMAC-SHA256 of both."""
    expires = int(expires_at.timestamp())
    return f"{invitation_id}-{expires}-{_signature(invitation_id, expires)}"


def _public_link(token: str) -> str:
    return f"{get_settings().resolved_public_url()}/s/{token}"


def _invitation_out(invitation: SurveyInvitation) -> InvitationOut:
    token = invitation_token(invitation.id, invitation.expires_at)
    data = {c: getattr(invitation, c) for c in InvitationOut.model_fields if hasattr(invitation, c)}
    chat = (
        invitation_mail.chat_message(invitation.language, _public_link(token))
        if invitation.channel == ConsentChannel.chat.value
        else None
    )
    return InvitationOut.model_validate(
        {**data, "token": token, "path": f"/s/{token}", "chat_message": chat}
    )


def get_invitation(session: Session, *, org_id: int, invitation_id: int) -> InvitationOut:
    """One invitation with its link and how its email is doing."""
    return _invitation_out(_get_invitation(session, org_id=org_id, invitation_id=invitation_id))


def _get_invitation(session: Session, *, org_id: int, invitation_id: int) -> SurveyInvitation:
    invitation = session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.org_id == org_id, SurveyInvitation.id == invitation_id
        )
    ).one_or_none()
    if invitation is None:
        raise NotFound("invitation", invitation_id)
    return invitation


def throttle_days(session: Session, *, org_id: int) -> int:
    """The organization's minimum number of days between two invitations of one customer."""
    value = auth.get_organization(session, org_id=org_id).settings.get(THROTTLE_SETTING)
    return value if isinstance(value, int) and value >= 0 else DEFAULT_THROTTLE_DAYS


def _check_source(session: Session, *, org_id: int, data: InvitationIn) -> None:
    if data.touchpoint_id is not None:
        journeys.get_touchpoint(session, org_id=org_id, touchpoint_id=data.touchpoint_id)
    if data.order_id is not None:
        commerce.get_order(session, org_id=org_id, order_id=data.order_id)
    if data.agent_id is not None and data.agent_id not in {
        u.id for u in auth.list_users(session, org_id=org_id)
    }:
        raise NotFound("user", data.agent_id)


def create_invitation(
    session: Session,
    *,
    org_id: int,
    survey_id: int,
    data: InvitationIn,
    now: datetime | None = None,
) -> InvitationOut:
    """Invite a customer to an active survey, if consent allows and they were not asked lately."""
    now = now or utcnow()
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    customer = customers.get_customer(session, org_id=org_id, customer_id=data.customer_id)
    _check_source(session, org_id=org_id, data=data)
    if data.channel is ConsentChannel.any:
        raise InvalidInput("channel", "name the channel the invitation goes out on")
    if survey.status is not SurveyStatus.active:
        raise Conflict(f"survey {survey_id} is {survey.status.value}, not active")
    if data.send_email:
        if data.channel is not ConsentChannel.email:
            raise InvalidInput("send_email", "only invitations on channel email are emailed")
        _email_address(session, org_id=org_id, customer_id=customer.id)
    if not customers.may_contact(
        session,
        org_id=org_id,
        customer_id=customer.id,
        purpose=ConsentPurpose.surveys,
        channel=data.channel,
        at=now,
    ):
        raise InvitationRefused(
            f"customer {customer.id} has no consent for surveys by {data.channel.value}"
        )
    days = throttle_days(session, org_id=org_id)
    family = customers.customer_id_family(session, org_id=org_id, customer_id=customer.id)
    recent = session.scalar(
        select(func.count())
        .select_from(SurveyInvitation)
        .where(
            SurveyInvitation.org_id == org_id,
            SurveyInvitation.customer_id.in_(family),
            SurveyInvitation.created_at > now - timedelta(days=days),
        )
    )
    if recent:
        raise InvitationRefused(f"customer {customer.id} was invited in the last {days} days")
    invitation = SurveyInvitation(
        org_id=org_id,
        survey_id=survey.id,
        customer_id=customer.id,
        channel=data.channel.value,
        language=survey_language(customer.language),
        touchpoint_id=data.touchpoint_id,
        order_id=data.order_id,
        conversation_id=data.conversation_id,
        agent_id=data.agent_id,
        team=data.team,
        expires_at=(now + timedelta(days=data.valid_days)).replace(microsecond=0),
        created_at=now,
        updated_at=now,
    )
    if data.send_email:
        invitation.send_status = EmailSendStatus.queued
        invitation.next_send_at = now
    session.add(invitation)
    session.flush()
    if data.send_email:
        _send_after_commit(session, org_id=org_id, invitation_id=invitation.id)
    return _invitation_out(invitation)


def _email_address(session: Session, *, org_id: int, customer_id: int) -> str:
    settings = get_settings()
    if not settings.smtp_host:
        raise EmailNotSent("email is not configured on this server (OPENCX_SMTP_HOST)")
    for identity in customers.list_identities(session, org_id=org_id, customer_id=customer_id):
        if identity.kind is IdentityKind.email:
            return identity.value
    raise EmailNotSent(f"customer {customer_id} has no email address")


# ---- email sending: a job per invitation, retries and reminders by the due-work dispatcher ----


def _send_after_commit(session: Session, *, org_id: int, invitation_id: int) -> None:
    # The job reads the invitation in its own session, so it may only start once this
    # transaction is committed; if it never runs (a restart), the dispatcher picks the row up.
    session.info.setdefault(_PENDING_SENDS, []).append((org_id, invitation_id))


@event.listens_for(Session, "after_commit")
def _submit_pending_sends(session: Session) -> None:
    from opencx.surveys import tasks  # tasks imports this module

    for org_id, invitation_id in session.info.pop(_PENDING_SENDS, []):
        jobs.submit(tasks.send_invitation_email, org_id=org_id, invitation_id=invitation_id)


@event.listens_for(Session, "after_rollback")
def _forget_pending_sends(session: Session) -> None:
    session.info.pop(_PENDING_SENDS, None)


def list_due_email_sends(
    session: Session, *, org_id: int, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Ids of queued invitation emails whose (next) attempt is due, oldest first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(SurveyInvitation.id)
            .where(
                SurveyInvitation.org_id == org_id,
                SurveyInvitation.send_status == EmailSendStatus.queued,
                SurveyInvitation.next_send_at <= now,
            )
            .order_by(SurveyInvitation.next_send_at, SurveyInvitation.id)
            .limit(limit)
        )
    )


def claim_email_send(
    session: Session, *, org_id: int, invitation_id: int, now: datetime | None = None
) -> bool:
    """Take a due send for this worker; False when another worker has it (or it is not due).

    One conditional UPDATE: of two racing workers only one changes the row (PostgreSQL re-checks
    the condition after the row lock, SQLite lets one writer at a time), so nobody sends twice.
    """
    now = now or utcnow()
    result = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.org_id == org_id,
            SurveyInvitation.id == invitation_id,
            SurveyInvitation.send_status == EmailSendStatus.queued,
            SurveyInvitation.next_send_at <= now,
        )
        .values(
            send_status=EmailSendStatus.sending,
            send_attempts=SurveyInvitation.send_attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def compose_invitation_email(
    session: Session, *, org_id: int, invitation_id: int, reminder: bool = False
) -> EmailMessage:
    """The invitation (or reminder) email to the customer's first email address.

    InvitationRefused when it may no longer go out at all: the survey closed or the consent
    withdrawn since the invitation was queued (retrying would not help).
    """
    settings = get_settings()
    invitation = _get_invitation(session, org_id=org_id, invitation_id=invitation_id)
    if invitation.customer_id is None:
        raise InvitationRefused(f"invitation {invitation_id} has no customer to email")
    survey = _get_survey(session, org_id=org_id, survey_id=invitation.survey_id)
    if survey.status is not SurveyStatus.active:
        raise InvitationRefused(f"survey {survey.id} is {survey.status.value}, not active")
    if not customers.may_contact(
        session,
        org_id=org_id,
        customer_id=invitation.customer_id,
        purpose=ConsentPurpose.surveys,
        channel=ConsentChannel.email,
    ):
        raise InvitationRefused(
            f"customer {invitation.customer_id} has no consent for surveys by email any more"
        )
    customer = customers.get_customer(session, org_id=org_id, customer_id=invitation.customer_id)
    token = invitation_token(invitation.id, invitation.expires_at)
    return invitation_mail.compose_invitation(
        settings=settings,
        to=_email_address(session, org_id=org_id, customer_id=customer.id),
        first_name=customer.first_name,
        org_name=auth.get_organization(session, org_id=org_id).name,
        language=invitation.language,
        link=_public_link(token),
        expires_at=invitation.expires_at,
        reminder=reminder,
    )


def record_email_outcome(
    session: Session,
    *,
    org_id: int,
    invitation_id: int,
    error: str | None,
    retry: bool = True,
    now: datetime | None = None,
) -> InvitationOut:
    """After a claimed attempt: sent, or queued again with backoff, or failed (last try, or
    `retry` False: the email may not go out at all)."""
    now = now or utcnow()
    settings = get_settings()
    invitation = _get_invitation(session, org_id=org_id, invitation_id=invitation_id)
    invitation.updated_at = now
    if error is None:
        invitation.send_status = EmailSendStatus.sent
        invitation.sent_at = now
        invitation.send_error = None
        invitation.next_send_at = None
    else:
        invitation.send_error = error[:500]
        if not retry or invitation.send_attempts >= settings.survey_email_max_attempts:
            invitation.send_status = EmailSendStatus.failed
            invitation.next_send_at = None
        else:
            wait = settings.survey_email_retry_seconds * 2 ** (invitation.send_attempts - 1)
            invitation.send_status = EmailSendStatus.queued
            invitation.next_send_at = now + timedelta(seconds=wait)
    session.flush()
    return _invitation_out(invitation)


def fail_interrupted_sends(session: Session, *, org_id: int, now: datetime | None = None) -> int:
    """Mark sends claimed long ago and never finished as failed; retrying might deliver twice."""
    now = now or utcnow()
    result = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.org_id == org_id,
            SurveyInvitation.send_status == EmailSendStatus.sending,
            SurveyInvitation.updated_at < now - STALE_SEND,
        )
        .values(
            send_status=EmailSendStatus.failed,
            send_error="interrupted during the hand-over to the SMTP server; not retried, "
            "because the message may have arrived",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reminder_days(session: Session, *, org_id: int) -> int:
    """Days after the invitation email that the one reminder goes out; 0 = no reminders."""
    value = auth.get_organization(session, org_id=org_id).settings.get(REMINDER_SETTING)
    return value if isinstance(value, int) and value >= 0 else DEFAULT_REMINDER_DAYS


def list_due_reminders(
    session: Session, *, org_id: int, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Emailed invitations due their one reminder: unanswered, open, survey active, consent."""
    now = now or utcnow()
    days = reminder_days(session, org_id=org_id)
    if days == 0:
        return []
    complete = select(SurveyResponse.invitation_id).where(
        SurveyResponse.org_id == org_id, SurveyResponse.completed.is_(True)
    )
    rows = session.execute(
        select(SurveyInvitation.id, SurveyInvitation.customer_id)
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(
            SurveyInvitation.org_id == org_id,
            Survey.org_id == org_id,
            Survey.status == SurveyStatus.active,
            SurveyInvitation.send_status == EmailSendStatus.sent,
            SurveyInvitation.sent_at <= now - timedelta(days=days),
            SurveyInvitation.reminded_at.is_(None),
            SurveyInvitation.expires_at > now,
            SurveyInvitation.customer_id.is_not(None),
            SurveyInvitation.id.not_in(complete),
        )
        .order_by(SurveyInvitation.id)
        .limit(limit)
    ).all()
    return [
        invitation_id
        for invitation_id, customer_id in rows
        if customer_id is not None
        and customers.may_contact(
            session,
            org_id=org_id,
            customer_id=customer_id,
            purpose=ConsentPurpose.surveys,
            channel=ConsentChannel.email,
            at=now,
        )
    ]


def claim_reminder(
    session: Session, *, org_id: int, invitation_id: int, now: datetime | None = None
) -> bool:
    """Mark the reminder as going out; False when another worker already did (never two)."""
    now = now or utcnow()
    result = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.org_id == org_id,
            SurveyInvitation.id == invitation_id,
            SurveyInvitation.reminded_at.is_(None),
        )
        .values(reminded_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_reminder(
    session: Session, *, org_id: int, invitation_id: int, now: datetime | None = None
) -> None:
    """The SMTP server did not take the reminder: let a later round try again."""
    invitation = _get_invitation(session, org_id=org_id, invitation_id=invitation_id)
    invitation.reminded_at = None
    invitation.updated_at = now or utcnow()
    session.flush()


def invite_periodically(
    session: Session, *, org_id: int, now: datetime | None = None, limit: int = 500
) -> int:
    """Invite by email, to each active periodic survey, consenting customers not asked in its period.

    At most `limit` invitations per call (the next round continues); refusals (throttle, consent
    withdrawn, no address) are skipped and looked at again next round. Nothing happens while
    email is off: the invitation would never reach anyone.
    """
    now = now or utcnow()
    if not get_settings().smtp_host:
        return 0
    surveys = session.scalars(
        select(Survey)
        .where(
            Survey.org_id == org_id,
            Survey.trigger == SurveyTrigger.periodic,
            Survey.status == SurveyStatus.active,
        )
        .order_by(Survey.id)
    ).all()
    invited = 0
    for survey in surveys:
        asked = set(
            session.scalars(
                select(SurveyInvitation.customer_id).where(
                    SurveyInvitation.org_id == org_id,
                    SurveyInvitation.survey_id == survey.id,
                    SurveyInvitation.created_at > now - timedelta(days=survey.period_days or 0),
                    SurveyInvitation.customer_id.is_not(None),
                )
            )
        )
        after_id = 0
        while invited < limit:
            candidates = customers.list_customer_ids_with_consent(
                session, org_id=org_id, purpose=ConsentPurpose.surveys, after_id=after_id
            )
            if not candidates:
                break
            after_id = candidates[-1]
            for customer_id in candidates:
                if customer_id in asked or invited >= limit:
                    continue
                try:
                    create_invitation(
                        session,
                        org_id=org_id,
                        survey_id=survey.id,
                        data=InvitationIn(
                            customer_id=customer_id, channel=ConsentChannel.email, send_email=True
                        ),
                        now=now,
                    )
                except (InvitationRefused, EmailNotSent):
                    continue
                invited += 1
    return invited


def record_interaction(
    session: Session, *, org_id: int, data: InteractionIn, now: datetime | None = None
) -> TriggerReport:
    """Invite the customer to every active survey triggered by this interaction, where allowed.

    Consent and throttling decide per survey; a refusal skips that survey with its reason
    instead of failing the interaction. Ids that are not this organization's are 404.
    """
    now = now or utcnow()
    if data.channel is ConsentChannel.any:
        raise InvalidInput("channel", "name the channel the invitation goes out on")
    if data.trigger is SurveyTrigger.periodic:
        raise InvalidInput(
            "trigger", "periodic surveys invite by themselves, not on an interaction"
        )
    customers.get_customer(session, org_id=org_id, customer_id=data.customer_id)
    surveys = session.scalars(
        select(Survey)
        .where(
            Survey.org_id == org_id,
            Survey.trigger == data.trigger,
            Survey.status == SurveyStatus.active,
        )
        .order_by(Survey.id)
    ).all()
    source = data.model_dump(exclude={"trigger"})
    # With email configured, an email invitation goes out by itself (through the send job).
    source["send_email"] = data.channel is ConsentChannel.email and bool(get_settings().smtp_host)
    report = TriggerReport()
    for survey in surveys:
        try:
            report.invited.append(
                create_invitation(
                    session,
                    org_id=org_id,
                    survey_id=survey.id,
                    data=InvitationIn.model_validate(source),
                    now=now,
                )
            )
        except (InvitationRefused, EmailNotSent) as refusal:
            report.skipped.append(SkippedSurvey(survey_id=survey.id, reason=refusal.reason))
    return report


def _touchpoint_for(touchpoints: list[Any], interaction: CommerceInteraction) -> int | None:
    # The journey touchpoint of the interaction: the purchase (or delivery) stage on the order's
    # channel, e.g. "Checkout (web)"; none when the organization has not mapped one.
    stage = "purchase" if interaction.kind == "order_placed" else "delivery"
    for touchpoint in touchpoints:
        if touchpoint.stage.value == stage and touchpoint.channel == interaction.order_channel:
            return int(touchpoint.id)
    return None


def _invite_after_commerce(
    session: Session, org_id: int, interactions: list[CommerceInteraction]
) -> None:
    """Commerce's interactions fire the order_placed and delivery_delivered triggers."""
    now = utcnow()
    recent = [i for i in interactions if i.occurred_at >= now - RECENT_INTERACTION]
    if not recent:
        return
    triggered = session.scalar(
        select(func.count())
        .select_from(Survey)
        .where(
            Survey.org_id == org_id,
            Survey.status == SurveyStatus.active,
            Survey.trigger.in_({i.kind for i in recent}),
        )
    )
    if not triggered:
        return
    touchpoints = journeys.list_touchpoints(session, org_id=org_id)
    for interaction in recent:
        record_interaction(
            session,
            org_id=org_id,
            data=InteractionIn(
                trigger=SurveyTrigger(interaction.kind),
                customer_id=interaction.customer_id,
                channel=ConsentChannel.email,
                order_id=interaction.order_id,
                touchpoint_id=_touchpoint_for(touchpoints, interaction),
            ),
            now=now,
        )


def list_responses(
    session: Session, *, org_id: int, survey_id: int, limit: int = 100, offset: int = 0
) -> list[ResponseOut]:
    """A survey's responses, newest first."""
    _get_survey(session, org_id=org_id, survey_id=survey_id)
    rows = session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.org_id == org_id, SurveyResponse.survey_id == survey_id)
        .order_by(SurveyResponse.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [ResponseOut.model_validate(r) for r in rows]


# ---- the public page: reading a token and recording answers ----------------------------------


@dataclass
class QuestionView:
    """One question as the respondent sees it, in their language, with their current answer."""

    key: str
    kind: QuestionKind
    text: str
    required: bool
    answer: Any
    scale: list[int] = field(default_factory=list)
    low_label: str = ""
    high_label: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SurveyPage:
    """What the public page shows for one token."""

    token: str
    language: str
    survey_name: str
    questions: list[QuestionView]
    completed: bool
    # Questions the respondent still has to see or answer before the survey is done.
    pending: bool
    missing: list[str] = field(default_factory=list)


def _invitation_for_token(session: Session, token: str, now: datetime) -> SurveyInvitation:
    match = _TOKEN.match(token)
    if match is None:
        raise NotFound("survey link", "")
    invitation_id, expires = int(match[1]), int(match[2])
    if not hmac.compare_digest(match[3], _signature(invitation_id, expires)):
        raise NotFound("survey link", "")
    if expires <= now.timestamp():
        raise SurveyLinkExpired("this survey link has expired")
    # The signed id is the only key here: the organization comes from the invitation itself.
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or int(invitation.expires_at.timestamp()) != expires:
        raise NotFound("survey link", "")
    return invitation


def _visible(questions: list[QuestionIn], answers: dict[str, Any]) -> list[QuestionIn]:
    shown: list[QuestionIn] = []
    keys: set[str] = set()
    for question in questions:
        condition = question.show_if
        if condition is None or (
            condition.question in keys and condition.holds(answers.get(condition.question))
        ):
            shown.append(question)
            keys.add(question.key)
    return shown


def _view(question: QuestionIn, language: str, answer: Any) -> QuestionView:
    return QuestionView(
        key=question.key,
        kind=question.kind,
        text=question.text.in_language(language),
        required=question.required,
        answer=answer,
        scale=list(range(question.scale_min, question.scale_max + 1))
        if question.kind is QuestionKind.rating
        else [],
        low_label=question.low_label.in_language(language) if question.low_label else "",
        high_label=question.high_label.in_language(language) if question.high_label else "",
        options=[(o.key, o.text.in_language(language)) for o in question.options],
    )


def _page_parts(
    session: Session, invitation: SurveyInvitation
) -> tuple[Survey, SurveyVersion, SurveyResponse | None]:
    org_id = invitation.org_id
    survey = _get_survey(session, org_id=org_id, survey_id=invitation.survey_id)
    response = session.scalars(
        select(SurveyResponse).where(
            SurveyResponse.org_id == org_id, SurveyResponse.invitation_id == invitation.id
        )
    ).one_or_none()
    if survey.status is not SurveyStatus.active:
        raise SurveyLinkExpired("this survey is closed")
    # A started response stays on the version it began with, even after a new one is published.
    version = (
        session.get(SurveyVersion, response.version_id)
        if response is not None
        else _published_version(session, survey)
    )
    if version is None or version.org_id != org_id:
        raise SurveyLinkExpired("this survey is closed")
    return survey, version, response


def _page(
    token: str,
    invitation: SurveyInvitation,
    survey: Survey,
    version: SurveyVersion,
    response: SurveyResponse | None,
    shown: set[str] | None = None,
) -> SurveyPage:
    answers = response.answers if response is not None else {}
    visible = _visible(_questions(version), answers)
    missing = [q.key for q in visible if q.required and q.key not in answers]
    unseen = shown is not None and any(q.key not in shown for q in visible)
    return SurveyPage(
        token=token,
        language=invitation.language,
        survey_name=survey.name,
        questions=[_view(q, invitation.language, answers.get(q.key)) for q in visible],
        completed=response is not None and response.completed,
        pending=shown is None or unseen or bool(missing),
        missing=missing if shown is not None else [],
    )


def get_survey_page(session: Session, *, token: str, now: datetime | None = None) -> SurveyPage:
    """The page of a signed invitation token; NotFound if tampered, SurveyLinkExpired if late."""
    invitation = _invitation_for_token(session, token, now or utcnow())
    survey, version, response = _page_parts(session, invitation)
    return _page(token, invitation, survey, version, response)


def _survey_for_public_token(session: Session, public_token: str) -> tuple[Survey, SurveyVersion]:
    # Like an invitation token, the unguessable public token alone names the survey and its org.
    survey = (
        session.scalars(select(Survey).where(Survey.public_token == public_token)).one_or_none()
        if 20 <= len(public_token) <= 64
        else None
    )
    if survey is None:
        raise NotFound("survey link", "")
    version = _published_version(session, survey)
    if not survey.public_link_enabled or survey.status is not SurveyStatus.active or not version:
        raise SurveyLinkExpired("this survey is not open")
    return survey, version


def _own_public_invitation(
    session: Session, survey: Survey, token: str | None, now: datetime
) -> SurveyInvitation | None:
    """The browser's earlier public-link invitation to this survey, from the token it kept."""
    if not token:
        return None
    try:
        invitation = _invitation_for_token(session, token, now)
    except (NotFound, SurveyLinkExpired):
        return None
    if invitation.survey_id != survey.id or invitation.customer_id is not None:
        return None
    return invitation


def get_public_survey_page(
    session: Session,
    *,
    public_token: str,
    language: str,
    token: str | None = None,
    now: datetime | None = None,
) -> SurveyPage:
    """The anonymous link's page: this browser's own response if it has one, else an empty form.

    Nothing is stored by looking. `token` is the personal token the browser kept from an
    earlier answer; the form of a new respondent posts back to the public link.
    """
    now = now or utcnow()
    survey, version = _survey_for_public_token(session, public_token)
    own = _own_public_invitation(session, survey, token, now)
    if own is not None:
        return get_survey_page(session, token=token or "", now=now)
    language = survey_language(language)
    return SurveyPage(
        token=f"p/{public_token}",  # the form posts to /s/p/{public_token}
        language=language,
        survey_name=survey.name,
        questions=[_view(q, language, None) for q in _visible(_questions(version), {})],
        completed=False,
        pending=True,
    )


def record_public_answers(
    session: Session,
    *,
    public_token: str,
    form: dict[str, list[str]],
    language: str,
    token: str | None = None,
    now: datetime | None = None,
) -> SurveyPage:
    """Answer through the anonymous link: one response per browser, marked channel `link`.

    The first submit makes an invitation without a customer and answers it; the page returned
    carries its personal token (the browser keeps it, so answering again updates that response).
    """
    now = now or utcnow()
    survey, _ = _survey_for_public_token(session, public_token)
    invitation = _own_public_invitation(session, survey, token, now)
    if invitation is None:
        invitation = SurveyInvitation(
            org_id=survey.org_id,
            survey_id=survey.id,
            customer_id=None,
            channel=LINK_CHANNEL,
            language=survey_language(language),
            expires_at=(now + timedelta(days=PUBLIC_RESPONSE_DAYS)).replace(microsecond=0),
            created_at=now,
            updated_at=now,
        )
        session.add(invitation)
        session.flush()
    return record_answers(
        session, token=invitation_token(invitation.id, invitation.expires_at), form=form, now=now
    )


def _parse_answer(question: QuestionIn, values: list[str]) -> Any:
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    field_name = f"q_{question.key}"
    if question.kind is QuestionKind.rating:
        try:
            value = int(values[0])
        except ValueError:
            raise InvalidInput(field_name, "must be a whole number") from None
        if not question.scale_min <= value <= question.scale_max:
            raise InvalidInput(
                field_name, f"must be from {question.scale_min} to {question.scale_max}"
            )
        return value
    if question.kind is QuestionKind.free_text:
        if len(values[0]) > MAX_TEXT_ANSWER:
            raise InvalidInput(field_name, f"at most {MAX_TEXT_ANSWER} characters")
        return values[0]
    options = {o.key for o in question.options}
    if unknown := [v for v in values if v not in options]:
        raise InvalidInput(field_name, f"unknown option {unknown[0]!r}")
    if question.kind is QuestionKind.single_choice:
        return values[0]
    return sorted(set(values))


def record_answers(
    session: Session, *, token: str, form: dict[str, list[str]], now: datetime | None = None
) -> SurveyPage:
    """Save what the respondent answered; every submit updates the token's one response.

    `form` maps field names to values: `q_<key>` per question and `shown` listing the keys the
    form displayed (a question shown but absent was cleared, like an unticked checkbox).
    Hidden questions (their show-if no longer holds) lose their answers.
    """
    now = now or utcnow()
    invitation = _invitation_for_token(session, token, now)
    survey, version, response = _page_parts(session, invitation)
    shown = set(form.get("shown", []))
    answers: dict[str, Any] = dict(response.answers) if response is not None else {}
    questions = _questions(version)
    for question in questions:
        if question.key in shown:
            value = _parse_answer(question, form.get(f"q_{question.key}", []))
            if value is None:
                answers.pop(question.key, None)
            else:
                answers[question.key] = value
    visible = _visible(questions, answers)
    answers = {q.key: answers[q.key] for q in visible if q.key in answers}
    rating = next((q for q in questions if q.kind is QuestionKind.rating), None)
    created = response is None
    previous_score = None if response is None else response.score
    if response is None:
        response = SurveyResponse(
            org_id=invitation.org_id,
            invitation_id=invitation.id,
            survey_id=survey.id,
            version_id=version.id,
            customer_id=invitation.customer_id,
            kind=survey.kind,
            channel=invitation.channel,
            language=invitation.language,
            touchpoint_id=invitation.touchpoint_id,
            agent_id=invitation.agent_id,
            team=invitation.team,
        )
        session.add(response)
    response.answers = answers
    response.score = answers.get(rating.key) if rating is not None else None
    response.completed = all(q.key in answers for q in visible if q.required) and all(
        q.key in shown for q in visible
    )
    response.submitted_at = now
    session.flush()
    # Only a detractor's score (now or before) can open or close a follow-up: no query otherwise.
    if follow_ups.is_detractor(survey.kind, response.score) or follow_ups.is_detractor(
        survey.kind, previous_score
    ):
        follow_ups.record_response_score(session, response=response, new_response=created, now=now)
    # The outbox row commits with the response, so an accepted answer always reaches webhooks.
    webhooks.record_event(
        session,
        org_id=invitation.org_id,
        event_type=RESPONSE_CREATED if created else RESPONSE_UPDATED,
        data=_response_event(survey, invitation, response),
        now=now,
    )
    return _page(token, invitation, survey, version, response, shown)


def _response_event(
    survey: Survey, invitation: SurveyInvitation, response: SurveyResponse
) -> dict[str, Any]:
    """The webhook payload of a response: the answers and where the feedback came from."""
    return {
        "survey": {"id": survey.id, "name": survey.name, "kind": survey.kind.value},
        "response_id": response.id,
        "invitation_id": invitation.id,
        "version_id": response.version_id,
        "customer_id": response.customer_id,
        "score": response.score,
        "answers": response.answers,
        "completed": response.completed,
        "language": response.language,
        "source": {
            "channel": invitation.channel,
            "touchpoint_id": invitation.touchpoint_id,
            "agent_id": invitation.agent_id,
            "team": invitation.team,
            "order_id": invitation.order_id,
            "conversation_id": invitation.conversation_id,
        },
        "submitted_at": response.submitted_at.isoformat(),
    }


# ---- customer 360 and GDPR --------------------------------------------------------------------


def _feedback_timeline(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[TimelineEntry]:
    rows = session.execute(
        select(SurveyResponse, Survey.name)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            SurveyResponse.org_id == org_id,
            Survey.org_id == org_id,
            SurveyResponse.customer_id.in_(customer_ids),
        )
    ).all()
    entries = []
    for response, name in rows:
        score = "" if response.score is None else f" {response.score}"
        entries.append(
            TimelineEntry(
                occurred_at=response.submitted_at,
                kind="feedback",
                title=f"{response.kind.value.upper()}{score}: {name}",
                detail="" if response.completed else "partly answered",
                source_id=str(response.id),
                data={"survey_id": response.survey_id, "touchpoint_id": response.touchpoint_id},
            )
        )
    return entries


def _export_feedback(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    responses = session.scalars(
        select(SurveyResponse).where(
            SurveyResponse.org_id == org_id, SurveyResponse.customer_id.in_(customer_ids)
        )
    ).all()
    return {
        "survey_responses": [
            ResponseOut.model_validate(r).model_dump(mode="json") for r in responses
        ]
    }


def _erase_feedback_text(session: Session, org_id: int, customer_ids: list[int]) -> dict[str, int]:
    """Blank the free-text answers; scores and choices stay for the aggregates."""
    responses = session.scalars(
        select(SurveyResponse).where(
            SurveyResponse.org_id == org_id, SurveyResponse.customer_id.in_(customer_ids)
        )
    ).all()
    versions = {
        v.id: v
        for v in session.scalars(
            select(SurveyVersion).where(
                SurveyVersion.org_id == org_id,
                SurveyVersion.id.in_({r.version_id for r in responses}),
            )
        )
    }
    changed = 0
    for response in responses:
        version = versions.get(response.version_id)
        free_text = (
            {q.key for q in _questions(version) if q.kind is QuestionKind.free_text}
            if version is not None
            else set()
        )
        if any(key in response.answers for key in free_text):
            response.answers = {
                k: ("" if k in free_text else v) for k, v in response.answers.items()
            }
            response.updated_at = utcnow()
            changed += 1
    session.flush()
    return {"survey_responses": changed}


register_interaction_handler("surveys", _invite_after_commerce)
register_timeline_source("feedback", _feedback_timeline)
register_export_source("surveys", _export_feedback)
register_erasure_hook("surveys", _erase_feedback_text)
