"""Surveys: definitions and versions, invitations with signed tokens, answers, feedback timeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.commerce import service as commerce
from opencx.customers import service as customers
from opencx.customers.gdpr import register_erasure_hook, register_export_source
from opencx.customers.models import ConsentChannel, ConsentPurpose, IdentityKind
from opencx.customers.timeline import TimelineEntry, register_timeline_source
from opencx.db import utcnow
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.settings import get_settings
from opencx.surveys import invitation_mail
from opencx.surveys.models import (
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveyStatus,
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

THROTTLE_SETTING = "survey_throttle_days"
DEFAULT_THROTTLE_DAYS = 30
MAX_TEXT_ANSWER = 5000


class InvitationRefused(Conflict):
    """The customer may not be invited now (no consent, or invited too recently)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailNotSent(Conflict):
    """The invitation email cannot go out (email off, no address, SMTP failure); nothing is stored."""

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
    survey = Survey(
        org_id=org_id,
        name=data.name,
        kind=data.kind,
        status=SurveyStatus.draft,
        trigger=data.trigger,
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


def _invitation_out(invitation: SurveyInvitation) -> InvitationOut:
    token = invitation_token(invitation.id, invitation.expires_at)
    data = {c: getattr(invitation, c) for c in InvitationOut.model_fields if hasattr(invitation, c)}
    return InvitationOut.model_validate({**data, "token": token, "path": f"/s/{token}"})


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
    address = None
    if data.send_email:
        if data.channel is not ConsentChannel.email:
            raise InvalidInput("send_email", "only invitations on channel email are emailed")
        address = _email_address(session, org_id=org_id, customer_id=customer.id)
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
    session.add(invitation)
    session.flush()
    if data.send_email:
        _email_invitation(session, invitation=invitation, to=address or "", now=now)
    return _invitation_out(invitation)


def _email_address(session: Session, *, org_id: int, customer_id: int) -> str:
    settings = get_settings()
    if not settings.smtp_host:
        raise EmailNotSent("email is not configured on this server (OPENCX_SMTP_HOST)")
    for identity in customers.list_identities(session, org_id=org_id, customer_id=customer_id):
        if identity.kind is IdentityKind.email:
            return identity.value
    raise EmailNotSent(f"customer {customer_id} has no email address")


def _email_invitation(
    session: Session, *, invitation: SurveyInvitation, to: str, now: datetime
) -> None:
    settings = get_settings()
    org_id = invitation.org_id
    customer = customers.get_customer(session, org_id=org_id, customer_id=invitation.customer_id)
    token = invitation_token(invitation.id, invitation.expires_at)
    message = invitation_mail.compose_invitation(
        settings=settings,
        to=to,
        first_name=customer.first_name,
        org_name=auth.get_organization(session, org_id=org_id).name,
        language=invitation.language,
        link=f"{settings.resolved_public_url()}/s/{token}",
        expires_at=invitation.expires_at,
    )
    try:
        invitation_mail.deliver(settings, message)
    except invitation_mail.MailNotSent as exc:
        raise EmailNotSent(str(exc)) from exc
    invitation.sent_at = now
    session.flush()


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
        except InvitationRefused as refusal:
            report.skipped.append(SkippedSurvey(survey_id=survey.id, reason=refusal.reason))
    return report


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
    return _page(token, invitation, survey, version, response, shown)


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


register_timeline_source("feedback", _feedback_timeline)
register_export_source("surveys", _export_feedback)
register_erasure_hook("surveys", _erase_feedback_text)


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


def list_free_text_answers(session: Session, *, org_id: int) -> list[FreeTextAnswer]:
    """Every non-empty free-text answer of the organization's responses, oldest response first."""
    free_text = {
        version.id: [q.key for q in _questions(version) if q.kind is QuestionKind.free_text]
        for version in session.scalars(select(SurveyVersion).where(SurveyVersion.org_id == org_id))
    }
    rows = session.execute(
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
    return [
        FreeTextAnswer(response_id, key, kind, score, language, answers[key].strip())
        for response_id, version_id, kind, score, language, answers in rows
        for key in free_text.get(version_id, [])
        if isinstance(answers.get(key), str) and answers[key].strip()
    ]
