"""Surveys: definitions and versions, invitations with signed tokens, answers, feedback timeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction, aliased

from opencx import jobs
from opencx.analytics import service as analytics
from opencx.auth import service as auth
from opencx.commerce import service as commerce
from opencx.commerce.interactions import CommerceInteraction, register_interaction_handler
from opencx.customers import service as customers
from opencx.customers.gdpr import register_erasure_hook, register_export_source
from opencx.customers.models import ConsentChannel, ConsentPurpose, IdentityKind
from opencx.customers.schemas import display_name
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
    BreakdownRow,
    CommentFilter,
    CommentPage,
    FeedbackItem,
    Headline,
    InteractionIn,
    InvitationImport,
    InvitationIn,
    InvitationOut,
    LiveFeed,
    NpsGroup,
    QuestionIn,
    QuestionKind,
    ResponseOut,
    ResponseRate,
    ScoreBar,
    ShowIf,
    SkippedSurvey,
    SurveyEditIn,
    SurveyIn,
    SurveyOut,
    SurveyOverview,
    SurveyResults,
    TrendWeek,
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
# Ids per IN (...) list of a bulk lookup: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 5_000


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


# Parsed questions of published versions (immutable), by version id, for the public page: every
# answer would otherwise validate them again. The stored questions are compared on each hit, so
# an id reused by another database (tests, a restore) can never serve someone else's questions.
_PUBLISHED_QUESTIONS: dict[int, tuple[list[dict[str, Any]], list[QuestionIn]]] = {}
_PUBLISHED_QUESTIONS_LIMIT = 1024


def _published_questions(version: SurveyVersion) -> list[QuestionIn]:
    if version.published_at is None:
        return _questions(version)
    cached = _PUBLISHED_QUESTIONS.get(version.id)
    if cached is not None and cached[0] == version.questions:
        return cached[1]
    questions = _questions(version)
    if len(_PUBLISHED_QUESTIONS) >= _PUBLISHED_QUESTIONS_LIMIT:
        _PUBLISHED_QUESTIONS.clear()
    _PUBLISHED_QUESTIONS[version.id] = (version.questions, questions)
    return questions


def _newest_version(session: Session, survey: Survey) -> SurveyVersion:
    version = session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.org_id == survey.org_id, SurveyVersion.survey_id == survey.id)
        .order_by(SurveyVersion.number.desc())
        .limit(1)
    ).one()
    return version


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


def _check_trigger(trigger: SurveyTrigger | None, period_days: int | None) -> None:
    if (trigger is SurveyTrigger.periodic) != (period_days is not None):
        raise InvalidInput("period_days", "give period_days with trigger periodic, and only then")


def create_survey(session: Session, *, org_id: int, data: SurveyIn) -> SurveyOut:
    """A new draft survey from a template's questions or custom questions (version 1)."""
    questions = data.questions
    if questions is None:
        if data.kind is SurveyKind.custom:
            raise InvalidInput("questions", "a custom survey needs questions")
        questions = STANDARD_QUESTIONS[data.kind]
    _check_questions(questions)
    _check_trigger(data.trigger, data.period_days)
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


@dataclass(frozen=True)
class _Invite:
    """One invitation to decide: to this survey, from this source, at this moment."""

    survey_id: int
    data: InvitationIn
    at: datetime


def create_invitation(
    session: Session,
    *,
    org_id: int,
    survey_id: int,
    data: InvitationIn,
    now: datetime | None = None,
) -> InvitationOut:
    """Invite a customer to an active survey, if consent allows and they were not asked lately."""
    invite = _Invite(survey_id, data, now or utcnow())
    outcome = _invite_all(session, org_id=org_id, invites=[invite])[0]
    if isinstance(outcome, InvitationRefused | EmailNotSent):
        raise outcome
    return outcome


def _invite_all(
    session: Session, *, org_id: int, invites: Sequence[_Invite]
) -> list[InvitationOut | InvitationRefused | EmailNotSent]:
    """The invitation rules for many invitations at once, decided in the order given.

    What the rules read (surveys, customers, sources, consent, each customer family's newest
    invitation) is loaded in a few queries for all; every invitation accepted counts for the
    throttle of the ones after it. Invalid input raises at the first invalid invitation and
    stores nothing; a customer who may not be invited gets the refusal in their place.
    """
    surveys = {
        survey.id: survey
        for survey in session.scalars(
            select(Survey).where(
                Survey.org_id == org_id, Survey.id.in_(sorted({i.survey_id for i in invites}))
            )
        )
    }
    found = customers.get_customers(
        session, org_id=org_id, customer_ids=[i.data.customer_id for i in invites]
    )
    touchpoints: set[int] = set()
    if any(i.data.touchpoint_id is not None for i in invites):
        touchpoints = {t.id for t in journeys.list_touchpoints(session, org_id=org_id)}
    orders = commerce.find_existing_order_ids(
        session, org_id=org_id, order_ids=[i.data.order_id for i in invites if i.data.order_id]
    )
    users: set[int] = set()
    if any(i.data.agent_id is not None for i in invites):
        users = {u.id for u in auth.list_users(session, org_id=org_id)}
    for invite in invites:
        data = invite.data
        survey = surveys.get(invite.survey_id)
        if survey is None:
            raise NotFound("survey", invite.survey_id)
        if data.customer_id not in found:
            raise NotFound("customer", data.customer_id)
        if data.touchpoint_id is not None and data.touchpoint_id not in touchpoints:
            raise NotFound("touchpoint", data.touchpoint_id)
        if data.order_id is not None and data.order_id not in orders:
            raise NotFound("order", data.order_id)
        if data.agent_id is not None and data.agent_id not in users:
            raise NotFound("user", data.agent_id)
        if data.channel is ConsentChannel.any:
            raise InvalidInput("channel", "name the channel the invitation goes out on")
        if survey.status is not SurveyStatus.active:
            raise Conflict(f"survey {survey.id} is {survey.status.value}, not active")
        if data.send_email and data.channel is not ConsentChannel.email:
            raise InvalidInput("send_email", "only invitations on channel email are emailed")
    allowed = customers.may_contact_each(
        session,
        org_id=org_id,
        checks=[
            (i.data.customer_id, ConsentPurpose.surveys, i.data.channel, i.at) for i in invites
        ],
    )
    days = throttle_days(session, org_id=org_id)
    families = customers.customer_id_families(
        session, org_id=org_id, customer_ids=[i.data.customer_id for i in invites]
    )
    newest = _newest_invitations(
        session,
        org_id=org_id,
        customer_ids={m for family in families.values() for m in family},
        after=min(i.at for i in invites) - timedelta(days=days),
    )
    outcomes: list[InvitationOut | InvitationRefused | EmailNotSent | SurveyInvitation] = []
    for invite, may_contact in zip(invites, allowed, strict=True):
        data, now = invite.data, invite.at
        customer = found[data.customer_id]
        if data.send_email:
            try:
                _email_address(session, org_id=org_id, customer_id=customer.id)
            except EmailNotSent as refusal:
                outcomes.append(refusal)
                continue
        if not may_contact:
            outcomes.append(
                InvitationRefused(
                    f"customer {customer.id} has no consent for surveys by {data.channel.value}"
                )
            )
            continue
        latest = max((newest[m] for m in families[customer.id] if m in newest), default=None)
        if latest is not None and latest > now - timedelta(days=days):
            outcomes.append(
                InvitationRefused(f"customer {customer.id} was invited in the last {days} days")
            )
            continue
        newest[customer.id] = max(now, newest.get(customer.id, now))
        invitation = SurveyInvitation(
            org_id=org_id,
            survey_id=invite.survey_id,
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
        outcomes.append(invitation)
    stored = [o for o in outcomes if isinstance(o, SurveyInvitation)]
    session.add_all(stored)
    session.flush()
    for invitation in stored:
        if invitation.send_status is EmailSendStatus.queued:
            _send_after_commit(session, org_id=org_id, invitation_id=invitation.id)
    return [_invitation_out(o) if isinstance(o, SurveyInvitation) else o for o in outcomes]


def _newest_invitations(
    session: Session, *, org_id: int, customer_ids: set[int], after: datetime
) -> dict[int, datetime]:
    """Each customer's newest invitation made after `after` (the throttle's look-back)."""
    newest: dict[int, datetime] = {}
    ordered = sorted(customer_ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = session.execute(
            select(SurveyInvitation.customer_id, func.max(SurveyInvitation.created_at))
            .where(
                SurveyInvitation.org_id == org_id,
                SurveyInvitation.customer_id.in_(ordered[start : start + _IN_CHUNK]),
                SurveyInvitation.created_at > after,
            )
            .group_by(SurveyInvitation.customer_id)
        )
        newest.update({c: created for c, created in rows if c is not None})
    return newest


def import_invitations(
    session: Session, *, org_id: int, items: Sequence[InvitationImport]
) -> list[TriggerReport]:
    """Invite many at once, each at its moment, by the same rules as one by one.

    An item invites to a survey (as `create_invitation`) or reports an interaction whose
    trigger invites (as `record_interaction`). Items are decided in the order given, so give
    them in the order they happened; a refusal (consent, throttle) is reported per item, not
    raised. Invalid input raises and stores nothing.
    """
    interactions = [item.interaction for item in items if item.interaction is not None]
    for interaction in interactions:
        _check_interaction(interaction)
    triggered = _triggered_surveys(
        session, org_id=org_id, triggers={interaction.trigger for interaction in interactions}
    )
    invites: list[_Invite] = []
    owners: list[int] = []
    for index, item in enumerate(items):
        if item.interaction is not None:
            source = _interaction_source(item.interaction)
            for survey in triggered.get(item.interaction.trigger, []):
                invites.append(_Invite(survey.id, source, item.at))
                owners.append(index)
        elif item.survey_id is not None and item.invitation is not None:
            invites.append(_Invite(item.survey_id, item.invitation, item.at))
            owners.append(index)
    if interactions:
        # An interaction that triggers no survey still names a customer, checked like one by one.
        known = customers.get_customers(
            session, org_id=org_id, customer_ids=[i.customer_id for i in interactions]
        )
        if missing := next((i.customer_id for i in interactions if i.customer_id not in known), 0):
            raise NotFound("customer", missing)
    reports = [TriggerReport() for _ in items]
    outcomes = _invite_all(session, org_id=org_id, invites=invites) if invites else []
    for index, invite, outcome in zip(owners, invites, outcomes, strict=True):
        if isinstance(outcome, InvitationOut):
            reports[index].invited.append(outcome)
        else:
            reports[index].skipped.append(
                SkippedSurvey(survey_id=invite.survey_id, reason=outcome.reason)
            )
    return reports


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
    _check_interaction(data)
    customers.get_customer(session, org_id=org_id, customer_id=data.customer_id)
    surveys = _triggered_surveys(session, org_id=org_id, triggers={data.trigger}).get(
        data.trigger, []
    )
    source = _interaction_source(data)
    invites = [_Invite(survey.id, source, now) for survey in surveys]
    report = TriggerReport()
    outcomes = _invite_all(session, org_id=org_id, invites=invites) if invites else []
    for invite, outcome in zip(invites, outcomes, strict=True):
        if isinstance(outcome, InvitationOut):
            report.invited.append(outcome)
        else:
            report.skipped.append(SkippedSurvey(survey_id=invite.survey_id, reason=outcome.reason))
    return report


def _check_interaction(data: InteractionIn) -> None:
    if data.channel is ConsentChannel.any:
        raise InvalidInput("channel", "name the channel the invitation goes out on")
    if data.trigger is SurveyTrigger.periodic:
        raise InvalidInput(
            "trigger", "periodic surveys invite by themselves, not on an interaction"
        )


def _triggered_surveys(
    session: Session, *, org_id: int, triggers: set[SurveyTrigger]
) -> dict[SurveyTrigger, list[Survey]]:
    """The active surveys of each trigger, oldest first."""
    found: dict[SurveyTrigger, list[Survey]] = {}
    if not triggers:
        return found
    for survey in session.scalars(
        select(Survey)
        .where(
            Survey.org_id == org_id,
            Survey.trigger.in_(sorted(triggers)),
            Survey.status == SurveyStatus.active,
        )
        .order_by(Survey.id)
    ):
        if survey.trigger is not None:
            found.setdefault(survey.trigger, []).append(survey)
    return found


def _interaction_source(data: InteractionIn) -> InvitationIn:
    source = data.model_dump(exclude={"trigger"})
    # With email configured, an email invitation goes out by itself (through the send job).
    source["send_email"] = data.channel is ConsentChannel.email and bool(get_settings().smtp_host)
    return InvitationIn.model_validate(source)


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
    # In a preview: when a question with a show-if appears ("shown when score <= 6").
    condition: str = ""


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
    # Set on the team's preview of a version: the form shows every question and sends nothing.
    preview: SurveyOut | None = None


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


# The survey, the token's response (if any) and the version to show, in one round trip: a
# started response keeps the version it began with, a new one gets the newest published.
_newest_published = aliased(SurveyVersion)
_PAGE_PARTS = (
    select(Survey, SurveyResponse, SurveyVersion)
    .outerjoin(
        SurveyResponse,
        (SurveyResponse.org_id == Survey.org_id)
        & (SurveyResponse.invitation_id == bindparam("invitation_id")),
    )
    .outerjoin(
        SurveyVersion,
        (SurveyVersion.org_id == Survey.org_id)
        & (
            SurveyVersion.id
            == func.coalesce(
                SurveyResponse.version_id,
                select(_newest_published.id)
                .where(
                    _newest_published.org_id == Survey.org_id,
                    _newest_published.survey_id == Survey.id,
                    _newest_published.published_at.is_not(None),
                )
                .order_by(_newest_published.number.desc())
                .limit(1)
                .correlate(Survey)
                .scalar_subquery(),
            )
        ),
    )
    .where(Survey.org_id == bindparam("org_id"), Survey.id == bindparam("survey_id"))
)


def _page_parts(
    session: Session, invitation: SurveyInvitation
) -> tuple[Survey, SurveyVersion, SurveyResponse | None]:
    row = session.execute(
        _PAGE_PARTS,
        {
            "org_id": invitation.org_id,
            "survey_id": invitation.survey_id,
            "invitation_id": invitation.id,
        },
    ).one_or_none()
    if row is None:
        raise NotFound("survey", invitation.survey_id)
    survey, response, version = row
    if survey.status is not SurveyStatus.active or version is None:
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
    visible = _visible(_published_questions(version), answers)
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


# One submit of a token at a time, so that two first submits racing (a double click, a retry)
# update one response instead of the second failing on the unique invitation_id.
# PostgreSQL: a row lock on the invitation until the transaction ends.
# SQLite: a lock in the process, taken before the reads. SQLite lets one transaction write at a
# time, and a writer that finds its lock taken sleeps in the busy handler in growing steps (up to
# 100 ms), so under load answers queued for seconds; a plain lock hands over as soon as the
# previous transaction ends. (Several server processes on one SQLite file still meet in the busy
# handler, and a same-token race between them can still fail the second submit.)
_SQLITE_WRITER = threading.Lock()
# As long as SQLite's busy_timeout (db.py): a thread writing on two sessions at once would wait on
# itself, and after this SQLite decides, as it did without the lock.
_SQLITE_WRITER_WAIT_S = 10


def _lock_invitation(session: Session, invitation: SurveyInvitation) -> None:
    """Hold the token until this session's transaction ends (see above)."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(SurveyInvitation.id)
            .where(SurveyInvitation.org_id == invitation.org_id)
            .where(SurveyInvitation.id == invitation.id)
            .with_for_update()
        )
    elif not session.info.get("sqlite_writer") and _SQLITE_WRITER.acquire(
        timeout=_SQLITE_WRITER_WAIT_S
    ):
        session.info["sqlite_writer"] = True


@event.listens_for(Session, "after_transaction_end")
def _release_sqlite_writer(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop("sqlite_writer", False):
        _SQLITE_WRITER.release()


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
    _lock_invitation(session, invitation)
    survey, version, response = _page_parts(session, invitation)
    shown = set(form.get("shown", []))
    answers: dict[str, Any] = dict(response.answers) if response is not None else {}
    questions = _published_questions(version)
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


# ---- the CX team's pages: builder, preview, results, comments -------------------------------

RESULT_WEEKS = (4, 12, 26, 52)
DEFAULT_RESULT_WEEKS = 12
LIVE_ITEMS = 10
NPS_GROUPS = {
    NpsGroup.detractor: (0, 6),
    NpsGroup.passive: (7, 8),
    NpsGroup.promoter: (9, 10),
}


def edit_survey(session: Session, *, org_id: int, survey_id: int, data: SurveyEditIn) -> SurveyOut:
    """Save the builder: name and trigger, and the questions through `update_survey_questions`.

    Unchanged questions start no new version, so renaming a live survey keeps its version.
    Everything is checked before anything changes.
    """
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    _check_questions(data.questions)
    _check_trigger(data.trigger, data.period_days)
    if _dump(data.questions) != _newest_version(session, survey).questions:
        update_survey_questions(
            session, org_id=org_id, survey_id=survey_id, questions=data.questions
        )
    survey.name = data.name
    survey.trigger = data.trigger
    survey.period_days = data.period_days
    session.flush()
    return _survey_out(session, survey)


def _condition_note(condition: ShowIf | None) -> str:
    if condition is None:
        return ""
    if condition.any_of is not None:
        return f"shown when {condition.question} is {' or '.join(condition.any_of)}"
    if condition.at_least is not None and condition.at_most is not None:
        return f"shown when {condition.question} is {condition.at_least} to {condition.at_most}"
    if condition.at_most is not None:
        return f"shown when {condition.question} <= {condition.at_most}"
    return f"shown when {condition.question} >= {condition.at_least}"


def get_survey_preview(
    session: Session, *, org_id: int, survey_id: int, language: str
) -> SurveyPage:
    """The public page of the newest version (draft or published) in a language, every question
    shown, those with a show-if marked with their condition; no invitation is involved."""
    survey = _get_survey(session, org_id=org_id, survey_id=survey_id)
    language = survey_language(language)
    views = []
    for question in _questions(_newest_version(session, survey)):
        view = _view(question, language, None)
        view.condition = _condition_note(question.show_if)
        views.append(view)
    return SurveyPage(
        token="",
        language=language,
        survey_name=survey.name,
        questions=views,
        completed=False,
        pending=True,
        preview=_survey_out(session, survey),
    )


def result_period(weeks: int, now: datetime | None = None) -> tuple[date, date]:
    """The last `weeks` ISO weeks up to today (UTC): [Monday of the first, tomorrow)."""
    today = (now or utcnow()).astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today + timedelta(days=1)


def _figure(kind: SurveyKind, responses: int, first: int, second: int) -> tuple[float, ...]:
    """(value, low, high) of NPS (promoters, detractors), CSAT % (satisfied) or a mean (sums)."""
    if kind is SurveyKind.nps:
        low, high = analytics.nps_interval(first, second, responses)
        return 100 * (first - second) / responses, low, high
    if kind is SurveyKind.csat:
        low, high = analytics.share_interval(first, responses)
        return 100 * first / responses, 100 * low, 100 * high
    bounds = analytics.mean_interval(responses, first, second)
    return (first / responses, *(bounds or (math.nan, math.nan)))


HEADLINE_LABELS = {
    SurveyKind.nps: ("NPS", ""),
    SurveyKind.csat: ("CSAT", "%"),
    SurveyKind.ces: ("CES", ""),
    SurveyKind.custom: ("Mean score", ""),
}


def _headline(kind: SurveyKind, counts: dict[int, int]) -> Headline | None:
    responses = sum(counts.values())
    if not responses:
        return None
    if kind is SurveyKind.nps:
        first = sum(n for score, n in counts.items() if score >= 9)
        second = sum(n for score, n in counts.items() if score <= 6)
    elif kind is SurveyKind.csat:
        first, second = sum(n for score, n in counts.items() if score >= 4), 0
    else:
        first = sum(score * n for score, n in counts.items())
        second = sum(score * score * n for score, n in counts.items())
    value, low, high = _figure(kind, responses, first, second)
    label, unit = HEADLINE_LABELS[kind]
    return Headline(
        label=label,
        value=value,
        low=None if math.isnan(low) else low,
        high=None if math.isnan(high) else high,
        responses=responses,
        unit=unit,
    )


def _response_counts(session: Session, *, org_id: int) -> dict[int, int]:
    rows = session.execute(
        select(SurveyResponse.survey_id, func.count())
        .where(SurveyResponse.org_id == org_id)
        .group_by(SurveyResponse.survey_id)
    ).all()
    return {survey_id: count for survey_id, count in rows}


def list_survey_overviews(
    session: Session, *, org_id: int, weeks: int = DEFAULT_RESULT_WEEKS, now: datetime | None = None
) -> list[SurveyOverview]:
    """Every survey with its stored responses and its headline figure over the last weeks."""
    start, end = result_period(weeks, now)
    counts: dict[int, dict[int, int]] = {}
    for row in analytics.compute_score_distribution_per_survey(org_id=org_id, start=start, end=end):
        counts.setdefault(row.survey_id, {})[row.score] = row.responses
    stored = _response_counts(session, org_id=org_id)
    return [
        SurveyOverview(
            survey=survey,
            responses=stored.get(survey.id, 0),
            headline=_headline(survey.kind, counts.get(survey.id, {})),
        )
        for survey in list_surveys(session, org_id=org_id)
    ]


def _kind_rows(
    kind: SurveyKind, *, org_id: int, survey_id: int, start: date, end: date
) -> list[tuple[date, int | None, int, int, int]]:
    """(week, touchpoint, responses, first, second) from the kind's per-touchpoint metric."""
    if kind is SurveyKind.nps:
        return [
            (r.week_start, r.touchpoint_id, r.responses, r.promoters, r.detractors)
            for r in analytics.compute_nps_per_touchpoint_per_week(
                org_id=org_id, start=start, end=end, survey_id=survey_id
            )
        ]
    if kind is SurveyKind.csat:
        return [
            (r.week_start, r.touchpoint_id, r.responses, r.satisfied, 0)
            for r in analytics.compute_csat_per_touchpoint_per_week(
                org_id=org_id, start=start, end=end, survey_id=survey_id
            )
        ]
    if kind is SurveyKind.ces:
        return [
            (r.week_start, r.touchpoint_id, r.responses, r.score_sum, r.score_square_sum)
            for r in analytics.compute_ces_per_touchpoint_per_week(
                org_id=org_id, start=start, end=end, survey_id=survey_id
            )
        ]
    return []


def _summed(
    rows: list[tuple[date, int | None, int, int, int]], by: int
) -> dict[Any, tuple[int, int, int]]:
    totals: dict[Any, tuple[int, int, int]] = {}
    for row in rows:
        n, first, second = totals.get(row[by], (0, 0, 0))
        totals[row[by]] = (n + row[2], first + row[3], second + row[4])
    return totals


def _bounds(low: float, high: float) -> tuple[float | None, float | None]:
    return (None, None) if math.isnan(low) else (low, high)


def _score_group(kind: SurveyKind, score: int) -> str:
    if kind is SurveyKind.nps:
        return next(group.value for group, (a, b) in NPS_GROUPS.items() if a <= score <= b)
    cuts = {SurveyKind.csat: (2, 3), SurveyKind.ces: (3, 4)}.get(kind)
    if cuts is None:
        return ""
    return "low" if score <= cuts[0] else "neutral" if score <= cuts[1] else "high"


# What the results page breaks a survey's figure down by (custom surveys: touchpoint only).
BREAKDOWNS = ("touchpoint", "channel", "agent", "team", "country", "segment", "language")


def _breakdown(
    session: Session,
    survey: SurveyOut,
    *,
    by: str,
    rows: list[tuple[date, int | None, int, int, int]],
    org_id: int,
    start: date,
    end: date,
) -> list[BreakdownRow]:
    """The survey's figure per group of `by`, biggest groups first."""
    if survey.kind is SurveyKind.custom:
        if by != "touchpoint":
            raise InvalidInput("by", "a custom survey breaks down by touchpoint only")
        names = {t.id: t.name for t in journeys.list_touchpoints(session, org_id=org_id)}
        breakdown = []
        for touchpoint_id, (n, first, second) in _summed(rows, 1).items():
            value, *bounds = _figure(survey.kind, n, first, second)
            low, high = _bounds(*bounds)
            name = names.get(touchpoint_id, "—") if touchpoint_id else "No touchpoint"
            breakdown.append(
                BreakdownRow(
                    key=touchpoint_id, name=name, responses=n, value=value, low=low, high=high
                )
            )
    else:
        # CSAT comes as a share; the page shows it in percent like the headline.
        scale = 100.0 if survey.kind is SurveyKind.csat else 1.0
        breakdown = [
            BreakdownRow(
                key=score.key,
                name=score.label,
                responses=score.responses,
                value=score.value * scale,
                low=None if score.low is None else score.low * scale,
                high=None if score.high is None else score.high * scale,
            )
            for score in analytics.compute_survey_scores(
                session,
                org_id=org_id,
                metric=survey.kind.value,
                by=by,
                grain="none",
                start=start,
                end=end,
                survey_id=survey.id,
            )
        ]
    return sorted(breakdown, key=lambda row: -row.responses)


def get_survey_results(
    session: Session,
    *,
    org_id: int,
    survey_id: int,
    weeks: int = DEFAULT_RESULT_WEEKS,
    by: str = "touchpoint",
    now: datetime | None = None,
) -> SurveyResults:
    """A survey's headline, response rate, weekly trend, score distribution and breakdown by
    `by` over the last weeks (from the analytics store), and its newest responses (operational)."""
    if weeks not in RESULT_WEEKS:
        raise InvalidInput("weeks", f"must be one of {', '.join(map(str, RESULT_WEEKS))}")
    if by not in BREAKDOWNS:
        raise InvalidInput("by", f"must be one of {', '.join(BREAKDOWNS)}")
    survey = get_survey(session, org_id=org_id, survey_id=survey_id)
    start, end = result_period(weeks, now)
    counts = {
        row.score: row.responses
        for row in analytics.compute_score_distribution_per_survey(
            org_id=org_id, start=start, end=end, survey_id=survey_id
        )
    }
    rating = next((q for q in survey.questions if q.kind is QuestionKind.rating), None)
    scale = range(rating.scale_min, rating.scale_max + 1) if rating is not None else range(0)
    distribution = [
        ScoreBar(
            score=score, responses=counts.get(score, 0), group=_score_group(survey.kind, score)
        )
        for score in sorted(set(scale) | set(counts))
    ]
    rows = _kind_rows(survey.kind, org_id=org_id, survey_id=survey_id, start=start, end=end)
    trend = []
    for week, (n, first, second) in sorted(_summed(rows, 0).items()):
        value, *bounds = _figure(survey.kind, n, first, second)
        low_or_none, high_or_none = _bounds(*bounds)
        trend.append(
            TrendWeek(week_start=week, responses=n, value=value, low=low_or_none, high=high_or_none)
        )
    breakdown = _breakdown(session, survey, by=by, rows=rows, org_id=org_id, start=start, end=end)
    rates = analytics.compute_response_rate_per_touchpoint_per_week(
        org_id=org_id, start=start, end=end, survey_id=survey_id
    )
    invited, answered = sum(r.invitations for r in rates), sum(r.responses for r in rates)
    low, high = analytics.share_interval(answered, invited) if invited else (None, None)
    return SurveyResults(
        survey=survey,
        start=start,
        end=end,
        weeks=weeks,
        headline=_headline(survey.kind, counts),
        response_rate=ResponseRate(
            invitations=invited,
            responses=answered,
            rate=answered / invited if invited else None,
            low=low,
            high=high,
        ),
        trend=trend,
        distribution=distribution,
        breakdown_by=by,
        breakdown=breakdown,
        live=_live_feed(session, org_id=org_id, filters=CommentFilter(survey_id=survey_id)),
    )


def _feedback_filter(org_id: int, filters: CommentFilter) -> list[Any]:
    where: list[Any] = [SurveyResponse.org_id == org_id]
    low, high = filters.score_min, filters.score_max
    if filters.group is not None:
        group_low, group_high = NPS_GROUPS[filters.group]
        low = group_low if low is None else max(low, group_low)
        high = group_high if high is None else min(high, group_high)
    for column, value in (
        (SurveyResponse.survey_id, filters.survey_id),
        (SurveyResponse.touchpoint_id, filters.touchpoint_id),
        (SurveyResponse.agent_id, filters.agent_id),
        (SurveyResponse.language, filters.language),
    ):
        if value is not None:
            where.append(column == value)
    if low is not None:
        where.append(SurveyResponse.score >= low)
    if high is not None:
        where.append(SurveyResponse.score <= high)
    return where


def _feedback_stamp(session: Session, where: list[Any]) -> str:
    count, newest_id, newest_update = session.execute(
        select(
            func.count(), func.max(SurveyResponse.id), func.max(SurveyResponse.updated_at)
        ).where(*where)
    ).one()
    moment = "" if newest_update is None else newest_update.isoformat()
    return f"{count}.{newest_id or 0}.{moment}"


def get_response_stamp(session: Session, *, org_id: int) -> str:
    """Changes whenever a response of the organization is added or updated (for live pages)."""
    return _feedback_stamp(session, [SurveyResponse.org_id == org_id])


class _FeedbackReader:
    """Turns responses into FeedbackItems, loading names and question texts once per request."""

    def __init__(self, session: Session, org_id: int) -> None:
        self.session = session
        self.org_id = org_id
        self.surveys = {
            s.id: s.name for s in session.scalars(select(Survey).where(Survey.org_id == org_id))
        }
        self.touchpoints = {t.id: t.name for t in journeys.list_touchpoints(session, org_id=org_id)}
        self.agents = {u.id: u.name for u in auth.list_users(session, org_id=org_id)}
        self._texts: dict[int, dict[str, str]] = {}
        self._customers: dict[int, str] = {}

    def free_text(self, version_id: int) -> dict[str, str]:
        """The free-text questions of a version: key -> English text."""
        if version_id not in self._texts:
            version = self.session.scalars(
                select(SurveyVersion).where(
                    SurveyVersion.org_id == self.org_id, SurveyVersion.id == version_id
                )
            ).one()
            self._texts[version_id] = {
                q.key: q.text.en for q in _questions(version) if q.kind is QuestionKind.free_text
            }
        return self._texts[version_id]

    def comments(self, response: SurveyResponse) -> list[tuple[str, str]]:
        texts = self.free_text(response.version_id)
        return [
            (texts[key], value)
            for key, value in response.answers.items()
            if key in texts and isinstance(value, str) and value.strip()
        ]

    def customer_name(self, customer_id: int | None) -> str:
        if customer_id is None:
            return "—"
        if customer_id not in self._customers:
            customer = customers.get_customer(
                self.session, org_id=self.org_id, customer_id=customer_id
            )
            self._customers[customer_id] = display_name(
                customer.id, customer.first_name, customer.last_name, customer.erased_at
            )
        return self._customers[customer_id]

    def item(self, response: SurveyResponse, comments: list[tuple[str, str]]) -> FeedbackItem:
        return FeedbackItem(
            response_id=response.id,
            survey_id=response.survey_id,
            survey_name=self.surveys.get(response.survey_id, ""),
            kind=response.kind,
            score=response.score,
            completed=response.completed,
            customer_id=response.customer_id,
            customer_name=self.customer_name(response.customer_id),
            touchpoint_id=response.touchpoint_id,
            touchpoint_name=self.touchpoints.get(response.touchpoint_id or 0, "—"),
            agent_id=response.agent_id,
            agent_name=self.agents.get(response.agent_id or 0, "—"),
            language=response.language,
            submitted_at=response.submitted_at,
            comments=comments,
        )


def _newest_first(where: list[Any]) -> Any:
    return (
        select(SurveyResponse)
        .where(*where)
        .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc())
    )


def _live_feed(session: Session, *, org_id: int, filters: CommentFilter) -> LiveFeed:
    where = _feedback_filter(org_id, filters)
    reader = _FeedbackReader(session, org_id)
    responses = session.scalars(_newest_first(where).limit(LIVE_ITEMS)).all()
    stamp = _feedback_stamp(session, where)
    return LiveFeed(
        stamp=stamp,
        responses=int(stamp.split(".")[0]),
        items=[reader.item(r, reader.comments(r)) for r in responses],
    )


def poll_survey_responses(
    session: Session, *, org_id: int, survey_id: int, stamp: str
) -> LiveFeed | None:
    """A survey's newest responses, or None when nothing changed since `stamp` (a cheap check)."""
    _get_survey(session, org_id=org_id, survey_id=survey_id)
    filters = CommentFilter(survey_id=survey_id)
    if _feedback_stamp(session, _feedback_filter(org_id, filters)) == stamp:
        return None
    return _live_feed(session, org_id=org_id, filters=filters)


def list_comments(
    session: Session,
    *,
    org_id: int,
    filters: CommentFilter,
    page: int = 1,
    page_size: int = 25,
) -> CommentPage:
    """Free-text answers across surveys, newest first, with score, customer and source.

    Which answers are free text depends on each response's version, so rows are read newest
    first and kept when they hold text, until the page (and one more, for "next") is full.
    """
    if page < 1:
        raise InvalidInput("page", "must be 1 or more")
    if filters.survey_id is not None:
        _get_survey(session, org_id=org_id, survey_id=filters.survey_id)
    where = _feedback_filter(org_id, filters)
    reader = _FeedbackReader(session, org_id)
    skip, items = (page - 1) * page_size, []
    for response in session.scalars(_newest_first(where).execution_options(yield_per=500)):
        comments = reader.comments(response)
        if not comments:
            continue
        if skip:
            skip -= 1
            continue
        items.append(reader.item(response, comments))
        if len(items) > page_size:
            break
    return CommentPage(
        items=items[:page_size],
        page=page,
        page_size=page_size,
        has_next=len(items) > page_size,
        stamp=_feedback_stamp(session, where),
        surveys=sorted(((i, n) for i, n in reader.surveys.items()), key=lambda s: s[1].lower()),
        touchpoints=sorted(reader.touchpoints.items(), key=lambda t: t[1].lower()),
        agents=sorted(reader.agents.items(), key=lambda a: a[1].lower()),
    )


def poll_comments(
    session: Session, *, org_id: int, filters: CommentFilter, stamp: str, page_size: int = 25
) -> CommentPage | None:
    """The first page of comments, or None when no matching response changed since `stamp`."""
    if _feedback_stamp(session, _feedback_filter(org_id, filters)) == stamp:
        return None
    return list_comments(session, org_id=org_id, filters=filters, page_size=page_size)


# ---- text analytics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FreeTextAnswer:
    """One non-empty free-text answer of a response, with the response's score and language."""

    response_id: int
    question_key: str
    kind: SurveyKind
    score: int | None
    language: str
    text: str


def list_free_text_answers(
    session: Session, *, org_id: int, response_ids: Sequence[int] | None = None
) -> list[FreeTextAnswer]:
    """Every non-empty free-text answer of the organization's responses, oldest response first;
    only those of `response_ids` when given."""
    free_text = {
        version.id: [q.key for q in _questions(version) if q.kind is QuestionKind.free_text]
        for version in session.scalars(select(SurveyVersion).where(SurveyVersion.org_id == org_id))
    }
    statement = (
        select(
            SurveyResponse.id,
            SurveyResponse.version_id,
            SurveyResponse.kind,
            SurveyResponse.score,
            SurveyResponse.language,
            SurveyResponse.answers,
        )
        .where(SurveyResponse.org_id == org_id)
        .order_by(SurveyResponse.id)
    )
    if response_ids is not None:
        statement = statement.where(SurveyResponse.id.in_(list(response_ids)))
    return [
        FreeTextAnswer(response_id, key, kind, score, language, answers[key].strip())
        for response_id, version_id, kind, score, language, answers in session.execute(statement)
        for key in free_text.get(version_id, [])
        if isinstance(answers.get(key), str) and answers[key].strip()
    ]


def list_response_submitted_times(
    session: Session, *, org_id: int, response_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each of the given responses was submitted, by id."""
    rows = session.execute(
        select(SurveyResponse.id, SurveyResponse.submitted_at).where(
            SurveyResponse.org_id == org_id, SurveyResponse.id.in_(list(response_ids))
        )
    )
    return {row_id: moment for row_id, moment in rows}
