"""Closed loop: a follow-up for every detractor answer, its owner, status, notes and settings.

A follow-up opens when a response's score makes it a detractor (NPS 0-6, CSAT 1-2); one per
response. If the respondent later changes the score to a non-detractor while the follow-up is
still open and nobody wrote a note, it is cancelled with a system note; once someone acted on
it, it stays as it is and only gets the system note. A cancelled follow-up reopens (with a fresh
due time) when the score becomes a detractor again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.auth.schemas import Principal
from opencx.customers import service as customers
from opencx.customers.gdpr import register_erasure_hook, register_export_source
from opencx.customers.timeline import TimelineEntry, register_timeline_source
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.surveys.follow_ups.models import (
    FollowUpStatus,
    NoteAuthor,
    SurveyFollowUp,
    SurveyFollowUpNote,
)
from opencx.surveys.follow_ups.schemas import (
    DEFAULT_DUE_HOURS,
    FollowUpChange,
    FollowUpDetail,
    FollowUpOut,
    FollowUpPage,
    FollowUpSettings,
    FollowUpSummary,
    NoteOut,
)
from opencx.surveys.models import (
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveyVersion,
)

OWNERS_SETTING = "survey_follow_up_owners"
OWNER_SETTING = "survey_follow_up_owner_id"
HOURS_SETTING = "survey_follow_up_hours"
SYSTEM = "OpenCX"

# The moves a person (or an API key) may make; `cancelled` is set by the system only.
TRANSITIONS: dict[FollowUpStatus, set[FollowUpStatus]] = {
    FollowUpStatus.open: {FollowUpStatus.contacted},
    FollowUpStatus.contacted: {FollowUpStatus.resolved},
    FollowUpStatus.resolved: {FollowUpStatus.open},
    FollowUpStatus.cancelled: {FollowUpStatus.open},
}
CLOSED = (FollowUpStatus.resolved, FollowUpStatus.cancelled)


class FollowUpNotYours(Exception):
    """Only admins, managers and the follow-up's owner may change it or write notes."""


def is_detractor(kind: SurveyKind, score: int | None) -> bool:
    """Whether a score calls for a follow-up: NPS 0-6 or CSAT 1-2."""
    if score is None:
        return False
    if kind is SurveyKind.nps:
        return score <= 6
    if kind is SurveyKind.csat:
        return score <= 2
    return False


# ---- settings ---------------------------------------------------------------------------------


def get_follow_up_settings(session: Session, *, org_id: int) -> FollowUpSettings:
    """Owners and due time of new follow-ups; malformed stored values fall back to defaults."""
    stored = auth.get_organization(session, org_id=org_id).settings
    owners = stored.get(OWNERS_SETTING)
    owner = stored.get(OWNER_SETTING)
    hours = stored.get(HOURS_SETTING)
    return FollowUpSettings(
        team_owners={
            team: user_id
            for team, user_id in (owners.items() if isinstance(owners, dict) else [])
            if isinstance(user_id, int) and user_id > 0
        },
        default_owner_id=owner if isinstance(owner, int) and owner > 0 else None,
        due_hours=hours if isinstance(hours, int) and 1 <= hours <= 24 * 30 else DEFAULT_DUE_HOURS,
    )


def _active_users(session: Session, org_id: int) -> dict[int, str]:
    return {u.id: u.name for u in auth.list_users(session, org_id=org_id) if u.is_active}


def update_follow_up_settings(
    session: Session, *, org_id: int, data: FollowUpSettings
) -> FollowUpSettings:
    """Replace the follow-up settings; every user id must be an active user of the organization."""
    users = _active_users(session, org_id)
    for team, user_id in data.team_owners.items():
        if not team.strip() or len(team) > 100:
            raise InvalidInput("team_owners", f"team name {team!r} must be 1-100 characters")
        if user_id not in users:
            raise InvalidInput(f"team_owners.{team}", f"user {user_id} is not a user here")
    if data.default_owner_id is not None and data.default_owner_id not in users:
        raise InvalidInput("default_owner_id", f"user {data.default_owner_id} is not a user here")
    org = auth.get_organization(session, org_id=org_id)
    # A new dict: the JSON column does not notice changes made inside the old one.
    org.settings = {
        **org.settings,
        OWNERS_SETTING: dict(data.team_owners),
        OWNER_SETTING: data.default_owner_id,
        HOURS_SETTING: data.due_hours,
    }
    session.flush()
    return get_follow_up_settings(session, org_id=org_id)


# ---- opening and closing by the response -----------------------------------------------------


def _note(
    follow_up: SurveyFollowUp,
    *,
    author: NoteAuthor,
    author_name: str,
    author_id: int | None = None,
    text: str = "",
    status_from: FollowUpStatus | None = None,
    status_to: FollowUpStatus | None = None,
    now: datetime,
) -> SurveyFollowUpNote:
    return SurveyFollowUpNote(
        org_id=follow_up.org_id,
        follow_up_id=follow_up.id,
        author_kind=author,
        author_id=author_id,
        author_name=author_name,
        status_from=status_from,
        status_to=status_to,
        text=text,
        created_at=now,
        updated_at=now,
    )


def _owner_for(session: Session, *, org_id: int, team: str | None) -> tuple[int | None, int]:
    settings = get_follow_up_settings(session, org_id=org_id)
    users = _active_users(session, org_id)
    candidates = [settings.team_owners.get(team) if team else None, settings.default_owner_id]
    # A lead who left (deactivated) is skipped rather than handed new work.
    owner = next((c for c in candidates if c is not None and c in users), None)
    return owner, settings.due_hours


def record_response_score(
    session: Session, *, response: SurveyResponse, new_response: bool, now: datetime
) -> SurveyFollowUp | None:
    """Open, cancel or reopen the response's follow-up after its score changed.

    Called by surveys.service.record_answers only when the new or the previous score is a
    detractor's, so a promoter's submit costs no query here.
    """
    detractor = is_detractor(response.kind, response.score)
    org_id = response.org_id
    # A response saved just now cannot have a follow-up yet.
    follow_up = (
        None
        if new_response
        else session.scalar(
            select(SurveyFollowUp).where(
                SurveyFollowUp.org_id == org_id, SurveyFollowUp.response_id == response.id
            )
        )
    )
    if follow_up is None:
        if not detractor:
            return None
        owner_id, hours = _owner_for(session, org_id=org_id, team=response.team)
        follow_up = SurveyFollowUp(
            org_id=org_id,
            response_id=response.id,
            survey_id=response.survey_id,
            customer_id=response.customer_id,
            owner_id=owner_id,
            agent_id=response.agent_id,
            team=response.team,
            touchpoint_id=response.touchpoint_id,
            score=response.score,
            status=FollowUpStatus.open,
            opened_at=now,
            due_at=now + timedelta(hours=hours),
        )
        session.add(follow_up)
        session.flush()
        return follow_up
    if follow_up.score == response.score:
        return follow_up
    change = f"The customer changed the score from {follow_up.score} to {response.score}."
    follow_up.score = response.score
    if detractor and follow_up.status is FollowUpStatus.cancelled:
        _, hours = _owner_for(session, org_id=org_id, team=response.team)
        session.add(
            _note(
                follow_up,
                author=NoteAuthor.system,
                author_name=SYSTEM,
                text=change + " Reopened.",
                status_from=follow_up.status,
                status_to=FollowUpStatus.open,
                now=now,
            )
        )
        follow_up.status = FollowUpStatus.open
        follow_up.opened_at = now
        follow_up.due_at = now + timedelta(hours=hours)
    elif (
        not detractor
        and follow_up.status is FollowUpStatus.open
        and not _touched(session, follow_up)
    ):
        session.add(
            _note(
                follow_up,
                author=NoteAuthor.system,
                author_name=SYSTEM,
                text=change + " No longer a detractor: closed automatically.",
                status_from=follow_up.status,
                status_to=FollowUpStatus.cancelled,
                now=now,
            )
        )
        follow_up.status = FollowUpStatus.cancelled
    else:
        session.add(
            _note(follow_up, author=NoteAuthor.system, author_name=SYSTEM, text=change, now=now)
        )
    follow_up.updated_at = now
    session.flush()
    return follow_up


def _touched(session: Session, follow_up: SurveyFollowUp) -> bool:
    """Whether a person or an integration wrote anything on the follow-up."""
    return (
        session.scalar(
            select(func.count(SurveyFollowUpNote.id)).where(
                SurveyFollowUpNote.org_id == follow_up.org_id,
                SurveyFollowUpNote.follow_up_id == follow_up.id,
                SurveyFollowUpNote.author_kind != NoteAuthor.system,
            )
        )
        or 0
    ) > 0


# ---- reading ----------------------------------------------------------------------------------


def _overdue(follow_up: SurveyFollowUp, now: datetime) -> bool:
    return follow_up.status not in CLOSED and follow_up.due_at < now


def _out(follow_up: SurveyFollowUp, users: dict[int, str], now: datetime) -> FollowUpOut:
    out = FollowUpOut.model_validate(follow_up)
    return out.model_copy(
        update={
            "owner_name": users.get(follow_up.owner_id) if follow_up.owner_id else None,
            "overdue": _overdue(follow_up, now),
        }
    )


def _all_users(session: Session, org_id: int) -> dict[int, str]:
    return {u.id: u.name for u in auth.list_users(session, org_id=org_id)}


def list_follow_ups(
    session: Session,
    *,
    org_id: int,
    status: FollowUpStatus | None = None,
    owner_id: int | None = None,
    survey_id: int | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> FollowUpPage:
    """Follow-ups matching the filters: those still to do first, by due time; then the closed."""
    now = now or utcnow()
    query = select(SurveyFollowUp).where(SurveyFollowUp.org_id == org_id)
    if status is not None:
        query = query.where(SurveyFollowUp.status == status)
    if owner_id is not None:
        query = query.where(SurveyFollowUp.owner_id == owner_id)
    if survey_id is not None:
        query = query.where(SurveyFollowUp.survey_id == survey_id)
    late = SurveyFollowUp.status.not_in(CLOSED) & (SurveyFollowUp.due_at < now)
    if overdue is True:
        query = query.where(late)
    elif overdue is False:
        query = query.where(~late)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(
            case((SurveyFollowUp.status.in_(CLOSED), 1), else_=0),
            SurveyFollowUp.due_at,
            SurveyFollowUp.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    users = _all_users(session, org_id)
    return FollowUpPage(total=total, items=[_out(f, users, now) for f in rows])


def _get(session: Session, *, org_id: int, follow_up_id: int) -> SurveyFollowUp:
    follow_up = session.scalar(
        select(SurveyFollowUp).where(
            SurveyFollowUp.org_id == org_id, SurveyFollowUp.id == follow_up_id
        )
    )
    if follow_up is None:
        raise NotFound("follow-up", follow_up_id)
    return follow_up


def _free_text_keys(questions: list[dict[str, Any]]) -> set[str]:
    return {q["key"] for q in questions if q.get("kind") == "free_text"}


def get_follow_up(
    session: Session, *, org_id: int, follow_up_id: int, now: datetime | None = None
) -> FollowUpDetail:
    """One follow-up with the customer's answer, its source and every note, oldest first."""
    follow_up = _get(session, org_id=org_id, follow_up_id=follow_up_id)
    response, survey, invitation, version = session.execute(
        select(SurveyResponse, Survey, SurveyInvitation, SurveyVersion)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .join(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .join(SurveyVersion, SurveyVersion.id == SurveyResponse.version_id)
        .where(
            SurveyResponse.org_id == org_id,
            Survey.org_id == org_id,
            SurveyResponse.id == follow_up.response_id,
        )
    ).one()
    notes = session.scalars(
        select(SurveyFollowUpNote)
        .where(
            SurveyFollowUpNote.org_id == org_id,
            SurveyFollowUpNote.follow_up_id == follow_up.id,
        )
        .order_by(SurveyFollowUpNote.id)
    ).all()
    users = _all_users(session, org_id)
    comment_keys = _free_text_keys(version.questions)
    return FollowUpDetail.model_validate(
        {
            **_out(follow_up, users, now or utcnow()).model_dump(),
            "survey_name": survey.name,
            "kind": response.kind,
            "channel": response.channel,
            "language": response.language,
            "order_id": invitation.order_id,
            "conversation_id": invitation.conversation_id,
            "agent_name": users.get(follow_up.agent_id) if follow_up.agent_id else None,
            "submitted_at": response.submitted_at,
            "comments": {k: v for k, v in response.answers.items() if k in comment_keys and v},
            "answers": response.answers,
            "notes": [NoteOut.model_validate(n) for n in notes],
        }
    )


# ---- acting on a follow-up --------------------------------------------------------------------


def _author(actor: Principal) -> tuple[NoteAuthor, int | None, str]:
    if actor.user_id is not None:
        return NoteAuthor.user, actor.user_id, actor.name
    # An API key is not a person: the note says which key, and has no user author.
    return NoteAuthor.api_key, None, f"API key {actor.name}"


def _check_may_act(actor: Principal, follow_up: SurveyFollowUp) -> None:
    if actor.role in (Role.admin, Role.manager):
        return
    if actor.user_id is None or actor.user_id != follow_up.owner_id:
        raise FollowUpNotYours("only admins, managers and the owner may work on this follow-up")


def change_follow_up(
    session: Session,
    *,
    org_id: int,
    follow_up_id: int,
    data: FollowUpChange,
    actor: Principal,
    now: datetime | None = None,
) -> FollowUpDetail:
    """Move the status (open -> contacted -> resolved; resolved -> open) and/or the owner."""
    now = now or utcnow()
    follow_up = _get(session, org_id=org_id, follow_up_id=follow_up_id)
    _check_may_act(actor, follow_up)
    new_owner = "owner_id" in data.model_fields_set and data.owner_id != follow_up.owner_id
    if data.status is None and not new_owner and not data.note.strip():
        raise InvalidInput("status", "give a new status, another owner or a note")
    old_status = follow_up.status
    if data.status is not None and data.status not in TRANSITIONS[old_status]:
        allowed = ", ".join(sorted(TRANSITIONS[old_status])) or "nothing"
        raise InvalidInput(
            "status", f"a {old_status.value} follow-up can move to {allowed}, not {data.status}"
        )
    texts: list[str] = []
    if new_owner:
        users = _active_users(session, org_id)
        if data.owner_id is not None and data.owner_id not in users:
            raise InvalidInput("owner_id", f"user {data.owner_id} is not a user here")
        follow_up.owner_id = data.owner_id
        texts.append(f"Assigned to {users[data.owner_id]}." if data.owner_id else "Unassigned.")
    if data.status is not None:
        follow_up.status = data.status
        if data.status is FollowUpStatus.contacted:
            follow_up.contacted_at = now
        elif data.status is FollowUpStatus.resolved:
            follow_up.resolved_at = now
        else:
            follow_up.resolved_at = None
    if data.note.strip():
        texts.append(data.note.strip())
    kind, author_id, name = _author(actor)
    session.add(
        _note(
            follow_up,
            author=kind,
            author_id=author_id,
            author_name=name,
            text="\n".join(texts),
            status_from=old_status if data.status is not None else None,
            status_to=data.status,
            now=now,
        )
    )
    follow_up.updated_at = now
    session.flush()
    return get_follow_up(session, org_id=org_id, follow_up_id=follow_up.id, now=now)


def add_follow_up_note(
    session: Session,
    *,
    org_id: int,
    follow_up_id: int,
    text: str,
    actor: Principal,
    now: datetime | None = None,
) -> NoteOut:
    """Write a note on a follow-up (a call made, what was agreed)."""
    now = now or utcnow()
    follow_up = _get(session, org_id=org_id, follow_up_id=follow_up_id)
    _check_may_act(actor, follow_up)
    if not text.strip():
        raise InvalidInput("text", "must not be empty")
    kind, author_id, name = _author(actor)
    note = _note(
        follow_up, author=kind, author_id=author_id, author_name=name, text=text.strip(), now=now
    )
    session.add(note)
    follow_up.updated_at = now
    session.flush()
    return NoteOut.model_validate(note)


@dataclass
class FollowUpWorkspace:
    """What the follow-up page shows one user: the follow-up and what they may do with it."""

    follow_up: FollowUpDetail
    may_act: bool
    next_statuses: list[FollowUpStatus]
    owners: list[tuple[int, str]]


def get_follow_up_workspace(
    session: Session, *, org_id: int, follow_up_id: int, actor: Principal
) -> FollowUpWorkspace:
    """The follow-up, whether `actor` may work on it, its next statuses and the possible owners."""
    detail = get_follow_up(session, org_id=org_id, follow_up_id=follow_up_id)
    follow_up = _get(session, org_id=org_id, follow_up_id=follow_up_id)
    try:
        _check_may_act(actor, follow_up)
        may_act = True
    except FollowUpNotYours:
        may_act = False
    return FollowUpWorkspace(
        follow_up=detail,
        may_act=may_act,
        next_statuses=sorted(TRANSITIONS[follow_up.status]),
        owners=sorted(_active_users(session, org_id).items(), key=lambda user: user[1]),
    )


# ---- customer 360 and GDPR --------------------------------------------------------------------


LOOP_CLOSED_WITHIN = timedelta(hours=48)


def compute_follow_up_summary(
    session: Session,
    *,
    org_id: int,
    start: datetime,
    now: datetime,
    country: str | None = None,
    segment: str | None = None,
) -> FollowUpSummary:
    """How many follow-ups opened since `start` were closed within 48 hours; open and overdue now.

    With a country or segment, only follow-ups of customers whose profile is in them count.
    """
    mine = [SurveyFollowUp.org_id == org_id]
    if country or segment:
        chosen = customers.select_profile_ids(
            session, org_id=org_id, country=country, segment=segment
        )
        mine.append(SurveyFollowUp.customer_id.in_(chosen))
    live = SurveyFollowUp.status.in_([FollowUpStatus.open, FollowUpStatus.contacted])
    opened_rows = session.execute(
        select(SurveyFollowUp.opened_at, SurveyFollowUp.resolved_at, SurveyFollowUp.status).where(
            *mine,
            SurveyFollowUp.status != FollowUpStatus.cancelled,
            SurveyFollowUp.opened_at >= start,
            SurveyFollowUp.opened_at < now,
        )
    ).all()
    open_now, overdue_now = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((SurveyFollowUp.due_at < now, 1), else_=0)), 0),
        ).where(*mine, live)
    ).one()
    return FollowUpSummary(
        opened=len(opened_rows),
        closed_within_48h=sum(
            1
            for opened_at, resolved_at, status in opened_rows
            if status is FollowUpStatus.resolved
            and resolved_at is not None
            and resolved_at - opened_at <= LOOP_CLOSED_WITHIN
        ),
        open_now=open_now,
        overdue_now=overdue_now,
    )


def _for_customers(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[tuple[SurveyFollowUp, str, SurveyKind]]:
    rows = session.execute(
        select(SurveyFollowUp, Survey.name, Survey.kind)
        .join(Survey, Survey.id == SurveyFollowUp.survey_id)
        .where(
            SurveyFollowUp.org_id == org_id,
            Survey.org_id == org_id,
            SurveyFollowUp.customer_id.in_(customer_ids),
        )
    ).all()
    return [(f, name, kind) for f, name, kind in rows]


def _follow_up_timeline(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[TimelineEntry]:
    entries = []
    for follow_up, name, kind in _for_customers(session, org_id, customer_ids):
        done = follow_up.resolved_at if follow_up.status is FollowUpStatus.resolved else None
        entries.append(
            TimelineEntry(
                occurred_at=follow_up.opened_at,
                kind="follow-up",
                title=f"Follow-up {follow_up.status.value}: {name} "
                f"({kind.value.upper()} {follow_up.score})",
                detail=f"resolved {done:%Y-%m-%d %H:%M} UTC" if done else "",
                source_id=str(follow_up.id),
                data={"survey_id": follow_up.survey_id, "response_id": follow_up.response_id},
            )
        )
    return entries


def _notes_of(session: Session, org_id: int, ids: list[int]) -> list[SurveyFollowUpNote]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(SurveyFollowUpNote)
            .where(SurveyFollowUpNote.org_id == org_id, SurveyFollowUpNote.follow_up_id.in_(ids))
            .order_by(SurveyFollowUpNote.id)
        )
    )


def _export_follow_ups(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    follow_ups = [f for f, _, _ in _for_customers(session, org_id, customer_ids)]
    notes: dict[int, list[dict[str, Any]]] = {}
    for note in _notes_of(session, org_id, [f.id for f in follow_ups]):
        notes.setdefault(note.follow_up_id, []).append(
            NoteOut.model_validate(note).model_dump(mode="json")
        )
    return {
        "survey_follow_ups": [
            {
                **FollowUpOut.model_validate(f).model_dump(mode="json", exclude={"overdue"}),
                "notes": notes.get(f.id, []),
            }
            for f in follow_ups
        ]
    }


def _erase_follow_up_notes(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, int]:
    """Blank the note texts (they tell of the customer); statuses and times stay for metrics."""
    follow_ups = [f for f, _, _ in _for_customers(session, org_id, customer_ids)]
    changed = 0
    for note in _notes_of(session, org_id, [f.id for f in follow_ups]):
        if note.text:
            note.text = ""
            note.updated_at = utcnow()
            changed += 1
    session.flush()
    return {"survey_follow_up_notes": changed}


register_timeline_source("follow-up", _follow_up_timeline)
register_export_source("survey_follow_ups", _export_follow_ups)
register_erasure_hook("survey_follow_ups", _erase_follow_up_notes)
