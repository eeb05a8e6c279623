"""SLA policies, business hours and each conversation's SLA clocks; breach detection.

`sync_conversation_sla` is called by `conversations.service` in the transaction of every change
that matters (new message, reply, status, priority, team, merge): it brings the conversation's
clocks in line with the conversation as it now is. `check_sla_breaches` (the background job
and `opencx sla check`) marks breaches and warnings, each once.

Built-in defaults when an organization configured no policy for a channel and priority:

| channel | first response | resolution |
|---|---|---|
| chat | 2 min | 4 h |
| whatsapp, messenger, instagram, telegram | 30 min | 8 h |
| email, web_form | 8 h | 24 h (3 working days) |
| voice | 60 min (answered live: met at the call; a missed call must be called back) | 8 h |

Counted in business hours (default Monday to Friday 09:00-17:00, Europe/Amsterdam). `high`
halves these targets, `urgent` quarters them (at least one minute); `low` keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, insert, or_, select, update
from sqlalchemy.orm import Session

from opencx.conversations.business_hours import (
    OpeningHours,
    OpeningPeriod,
    add_business_time,
    business_time_between,
)
from opencx.conversations.models import (
    BusinessHours,
    Conversation,
    ConversationChannel,
    ConversationPriority,
    ConversationSla,
    ConversationStatus,
    SlaPolicy,
)
from opencx.conversations.schemas import (
    BusinessHoursIn,
    BusinessHoursOut,
    ConversationSlaOut,
    OpeningPeriodIn,
    SlaBadge,
    SlaCheckReport,
    SlaPolicyIn,
    SlaPolicyOut,
    SlaState,
)
from opencx.db import utcnow
from opencx.errors import NotFound

_SOCIAL = (
    ConversationChannel.whatsapp,
    ConversationChannel.messenger,
    ConversationChannel.instagram,
    ConversationChannel.telegram,
)
DEFAULT_FIRST_RESPONSE_MINUTES: dict[ConversationChannel, int] = {
    ConversationChannel.chat: 2,
    **dict.fromkeys(_SOCIAL, 30),
    ConversationChannel.email: 8 * 60,
    ConversationChannel.web_form: 8 * 60,
    # Answered live: an answered call is its own first response; a missed one is called back.
    ConversationChannel.voice: 60,
}
DEFAULT_RESOLUTION_MINUTES: dict[ConversationChannel, int] = {
    ConversationChannel.chat: 4 * 60,
    **dict.fromkeys(_SOCIAL, 8 * 60),
    ConversationChannel.email: 24 * 60,
    ConversationChannel.web_form: 24 * 60,
    ConversationChannel.voice: 8 * 60,
}
PRIORITY_DIVISOR = {
    ConversationPriority.low: 1,
    ConversationPriority.normal: 1,
    ConversationPriority.high: 2,
    ConversationPriority.urgent: 4,
}
DEFAULT_WARNING_PERCENT = 20
DEFAULT_HOURS = BusinessHoursIn(
    time_zone="Europe/Amsterdam",
    periods=[OpeningPeriodIn(weekday=d, opens=time(9), closes=time(17)) for d in range(5)],
)
_DONE = (ConversationStatus.resolved, ConversationStatus.closed)


# --- business hours -------------------------------------------------------------------------


def _hours_out(row: BusinessHours | None, team: str | None) -> BusinessHoursOut:
    if row is None:
        return BusinessHoursOut(
            team=team,
            time_zone=DEFAULT_HOURS.time_zone,
            periods=DEFAULT_HOURS.periods,
            holidays=[],
            configured=False,
        )
    return BusinessHoursOut(
        team=row.team or None,
        time_zone=row.time_zone,
        periods=[OpeningPeriodIn.model_validate(p) for p in row.periods],
        holidays=[date.fromisoformat(d) for d in row.holidays],
        configured=True,
    )


def list_business_hours(session: Session, *, org_id: int) -> list[BusinessHoursOut]:
    """The organization's default hours (stored or built in) first, then each team's."""
    rows = list(
        session.scalars(
            select(BusinessHours).where(BusinessHours.org_id == org_id).order_by(BusinessHours.team)
        )
    )
    default = next((r for r in rows if r.team == ""), None)
    return [_hours_out(default, None), *(_hours_out(r, r.team) for r in rows if r.team)]


def set_business_hours(session: Session, *, org_id: int, data: BusinessHoursIn) -> BusinessHoursOut:
    """Store a team's (or the default) hours, replacing earlier ones; open clocks follow."""
    team = data.team or ""
    row = session.scalar(
        select(BusinessHours).where(BusinessHours.org_id == org_id, BusinessHours.team == team)
    )
    if row is None:
        row = BusinessHours(org_id=org_id, team=team)
        session.add(row)
    row.time_zone = data.time_zone
    row.periods = [p.model_dump(mode="json") for p in data.periods]
    row.holidays = [d.isoformat() for d in data.holidays]
    session.flush()
    _rearm_open_clocks(session, org_id=org_id, team=data.team)
    return _hours_out(row, data.team)


def delete_business_hours(session: Session, *, org_id: int, team: str | None) -> None:
    """Remove a team's hours (it uses the default again), or the default (built-in again)."""
    row = session.scalar(
        select(BusinessHours).where(
            BusinessHours.org_id == org_id, BusinessHours.team == (team or "")
        )
    )
    if row is None:
        raise NotFound("business hours", team or "default")
    session.delete(row)
    session.flush()
    _rearm_open_clocks(session, org_id=org_id, team=team)


def get_opening_hours(session: Session, *, org_id: int, team: str | None) -> OpeningHours:
    """The hours a team's clocks count in: its own, else the organization's, else built in."""
    rows = {
        r.team: r
        for r in session.scalars(
            select(BusinessHours).where(
                BusinessHours.org_id == org_id, BusinessHours.team.in_([team or "", ""])
            )
        )
    }
    found = _hours_out(rows.get(team or "") or rows.get(""), team)
    return OpeningHours(
        found.time_zone,
        tuple(OpeningPeriod(p.weekday, p.opens, p.closes) for p in found.periods),
        frozenset(found.holidays),
    )


# --- policies -------------------------------------------------------------------------------


def default_policy(channel: ConversationChannel, priority: ConversationPriority) -> SlaPolicyOut:
    """The built-in targets of a channel and priority."""
    divisor = PRIORITY_DIVISOR[priority]
    return SlaPolicyOut(
        id=None,
        team=None,
        channel=channel,
        priority=priority,
        first_response_minutes=max(1, DEFAULT_FIRST_RESPONSE_MINUTES[channel] // divisor),
        resolution_minutes=max(1, DEFAULT_RESOLUTION_MINUTES[channel] // divisor),
        business_hours=True,
        warning_percent=DEFAULT_WARNING_PERCENT,
    )


def _policy_out(row: SlaPolicy) -> SlaPolicyOut:
    return SlaPolicyOut(
        id=row.id,
        team=row.team or None,
        channel=row.channel,
        priority=row.priority,
        first_response_minutes=row.first_response_minutes,
        resolution_minutes=row.resolution_minutes,
        business_hours=row.business_hours,
        warning_percent=row.warning_percent,
    )


def list_sla_policies(session: Session, *, org_id: int) -> list[SlaPolicyOut]:
    """The organization's stored policies, organization-wide ones first."""
    rows = session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.org_id == org_id)
        .order_by(SlaPolicy.team, SlaPolicy.channel, SlaPolicy.priority)
    )
    return [_policy_out(r) for r in rows]


def list_effective_policies(
    session: Session, *, org_id: int, team: str | None = None
) -> list[SlaPolicyOut]:
    """For every channel and priority, the policy a conversation (of `team`) gets."""
    return [
        _policy_for(session, org_id=org_id, channel=channel, priority=priority, team=team)
        for channel in ConversationChannel
        for priority in ConversationPriority
    ]


def set_sla_policy(session: Session, *, org_id: int, data: SlaPolicyIn) -> SlaPolicyOut:
    """Store the targets of a channel and priority (for a team or all), replacing earlier ones."""
    team = data.team or ""
    row = session.scalar(
        select(SlaPolicy).where(
            SlaPolicy.org_id == org_id,
            SlaPolicy.team == team,
            SlaPolicy.channel == data.channel,
            SlaPolicy.priority == data.priority,
        )
    )
    if row is None:
        row = SlaPolicy(org_id=org_id, team=team, channel=data.channel, priority=data.priority)
        session.add(row)
    row.first_response_minutes = data.first_response_minutes
    row.resolution_minutes = data.resolution_minutes
    row.business_hours = data.business_hours
    row.warning_percent = data.warning_percent
    session.flush()
    _rearm_open_clocks(session, org_id=org_id, team=None)
    return _policy_out(row)


def delete_sla_policy(session: Session, *, org_id: int, policy_id: int) -> None:
    """Remove a policy: its conversations fall back to the organization's or built-in one."""
    row = session.scalar(
        select(SlaPolicy).where(SlaPolicy.org_id == org_id, SlaPolicy.id == policy_id)
    )
    if row is None:
        raise NotFound("SLA policy", policy_id)
    session.delete(row)
    session.flush()
    _rearm_open_clocks(session, org_id=org_id, team=None)


def _policy_for(
    session: Session,
    *,
    org_id: int,
    channel: ConversationChannel,
    priority: ConversationPriority,
    team: str | None,
) -> SlaPolicyOut:
    rows = {
        r.team: r
        for r in session.scalars(
            select(SlaPolicy).where(
                SlaPolicy.org_id == org_id,
                SlaPolicy.channel == channel,
                SlaPolicy.priority == priority,
                SlaPolicy.team.in_([team or "", ""]),
            )
        )
    }
    row = rows.get(team or "") or rows.get("")
    return _policy_out(row) if row is not None else default_policy(channel, priority)


# --- a conversation's clocks ----------------------------------------------------------------


def _warn_at(
    start: datetime, target_minutes: int, used: timedelta, percent: int, hours: OpeningHours
) -> datetime:
    # About to breach once `percent` of the target is left.
    warn_after = timedelta(minutes=target_minutes) * (100 - percent) / 100
    return add_business_time(start, max(warn_after - used, timedelta(0)), hours)


def _hours_of(row: ConversationSla, hours: OpeningHours) -> OpeningHours:
    return hours if row.business_hours else OpeningHours.always_open()


def _arm(row: ConversationSla, hours: OpeningHours) -> None:
    """Due and warning moments from the clock starts and targets (open time per the hours)."""
    clock = _hours_of(row, hours)
    target = row.first_response_target_minutes
    if target is None:
        row.first_response_due_at = row.first_response_warn_at = None
    elif row.first_response_met_at is None:
        row.first_response_due_at = add_business_time(
            row.started_at, timedelta(minutes=target), clock
        )
        row.first_response_warn_at = _warn_at(
            row.started_at, target, timedelta(0), row.warning_percent, clock
        )
    target = row.resolution_target_minutes
    if target is None:
        row.resolution_due_at = row.resolution_warn_at = None
    elif row.resolution_running_since is not None:
        used = timedelta(seconds=row.resolution_elapsed_seconds)
        left = max(timedelta(minutes=target) - used, timedelta(0))
        since = row.resolution_running_since
        row.resolution_due_at = add_business_time(since, left, clock)
        row.resolution_warn_at = _warn_at(since, target, used, row.warning_percent, clock)


def _stop_resolution_clock(row: ConversationSla, at: datetime, hours: OpeningHours) -> None:
    if row.resolution_running_since is None:
        return
    used = business_time_between(row.resolution_running_since, at, _hours_of(row, hours))
    row.resolution_elapsed_seconds += int(used.total_seconds())
    row.resolution_running_since = None


def _late(met_at: datetime, due_at: datetime | None) -> bool:
    return due_at is not None and met_at > due_at


def sync_conversation_sla(session: Session, *, conversation: Conversation, at: datetime) -> None:
    """Bring the conversation's SLA clocks in line with its state, in the caller's transaction.

    New: clocks start at `at` (the customer's first message). First response recorded: met
    (breached too when late). Pending: the resolution clock stops; open again: it runs on.
    Resolved or closed: resolution met (breached too when late). Open after resolved: a new
    resolution clock from `at`. Priority, team or policy changes: targets and due moments
    follow. Merged into another: the clocks go (the survivor keeps its own).
    """
    row = session.scalar(
        select(ConversationSla).where(
            ConversationSla.org_id == conversation.org_id,
            ConversationSla.conversation_id == conversation.id,
        )
    )
    if conversation.merged_into_id is not None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ConversationSla(
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            started_at=at,
            resolution_running_since=at,
            resolution_elapsed_seconds=0,
        )
        session.add(row)
    policy = _policy_for(
        session,
        org_id=conversation.org_id,
        channel=conversation.channel,
        priority=conversation.priority,
        team=conversation.team,
    )
    row.policy_id = policy.id
    row.business_hours = policy.business_hours
    row.warning_percent = policy.warning_percent
    row.first_response_target_minutes = policy.first_response_minutes
    row.resolution_target_minutes = policy.resolution_minutes
    hours = get_opening_hours(session, org_id=conversation.org_id, team=conversation.team)

    if conversation.first_response_at is not None and row.first_response_met_at is None:
        row.first_response_met_at = conversation.first_response_at
    status = conversation.status
    if status in _DONE:
        if row.resolution_met_at is None:
            _stop_resolution_clock(row, at, hours)
            row.resolution_met_at = conversation.resolved_at or at
    elif status is ConversationStatus.pending:
        if row.resolution_met_at is not None:  # reopened straight into pending
            row.resolution_met_at = None
            row.resolution_elapsed_seconds = 0
        _stop_resolution_clock(row, at, hours)
    else:
        if row.resolution_met_at is not None:
            # Reopened: the desk owes a resolution again, with the whole target from now.
            row.resolution_met_at = None
            row.resolution_elapsed_seconds = 0
            row.resolution_warned_at = None
            row.resolution_running_since = at
        elif row.resolution_running_since is None:
            row.resolution_running_since = at
    _arm(row, hours)
    # A target met late is a breach even when no check ran in between; marked once.
    if (
        row.first_response_met_at is not None
        and row.first_response_breached_at is None
        and _late(row.first_response_met_at, row.first_response_due_at)
    ):
        row.first_response_breached_at = row.first_response_due_at
    if (
        row.resolution_met_at is not None
        and row.resolution_breached_at is None
        and _late(row.resolution_met_at, row.resolution_due_at)
    ):
        row.resolution_breached_at = row.resolution_due_at
    session.flush()


@dataclass(frozen=True)
class ImportedClocks:
    """What an imported conversation's clocks follow from (see `start_imported_clocks`)."""

    conversation_id: int
    channel: ConversationChannel
    priority: ConversationPriority
    team: str | None
    started_at: datetime  # the customer's first message
    first_response_at: datetime | None
    resolution_since: datetime  # the first message, or the one that last reopened it
    resolved_at: datetime | None  # None: open now


def start_imported_clocks(
    session: Session, *, org_id: int, histories: Sequence[ImportedClocks], now: datetime
) -> int:
    """SLA clocks for conversations imported whole, in bulk, by the rules of live ones; the
    number of clocks stored.

    The clock starts at the customer's first message with the policy of the conversation's
    channel, priority and team; the first response is met at `first_response_at`, the
    resolution at `resolved_at`, each breached when late. Simplified for a reopened history:
    the resolution clock counts only from the customer message that last reopened it, with
    the whole target (as a live reopen does). Targets still running and past due by `now`
    are marked breached (and warned) at their due moment, so the breach check does not
    announce history as news.
    """
    policies: dict[tuple[Any, ...], SlaPolicyOut] = {}
    opening: dict[str | None, OpeningHours] = {}
    rows = []
    columns = [c.key for c in ConversationSla.__table__.columns if c.key != "id"]
    for history in histories:
        key = (history.channel, history.priority, history.team)
        if key not in policies:
            policies[key] = _policy_for(
                session,
                org_id=org_id,
                channel=history.channel,
                priority=history.priority,
                team=history.team,
            )
        if history.team not in opening:
            opening[history.team] = get_opening_hours(session, org_id=org_id, team=history.team)
        policy, hours = policies[key], opening[history.team]
        row = ConversationSla(
            org_id=org_id,
            conversation_id=history.conversation_id,
            policy_id=policy.id,
            business_hours=policy.business_hours,
            warning_percent=policy.warning_percent,
            started_at=history.started_at,
            first_response_target_minutes=policy.first_response_minutes,
            resolution_target_minutes=policy.resolution_minutes,
            resolution_running_since=history.resolution_since,
            resolution_elapsed_seconds=0,
            created_at=history.started_at,
            updated_at=now,
        )
        _arm(row, hours)  # due moments from the starts, as a new conversation gets them
        row.first_response_met_at = history.first_response_at
        if history.resolved_at is not None:
            _stop_resolution_clock(row, history.resolved_at, hours)
            row.resolution_met_at = history.resolved_at
        for target in ("first_response", "resolution"):
            due: datetime | None = getattr(row, f"{target}_due_at")
            met: datetime | None = getattr(row, f"{target}_met_at")
            if due is None:
                continue
            if met is not None and _late(met, due):
                setattr(row, f"{target}_breached_at", due)
            elif met is None and _still_running(row, target):
                warn: datetime | None = getattr(row, f"{target}_warn_at")
                if warn is not None and warn <= now:
                    setattr(row, f"{target}_warned_at", warn)
                if due <= now:
                    setattr(row, f"{target}_breached_at", due)
        rows.append({column: getattr(row, column) for column in columns})
    if rows:
        session.connection().execute(insert(ConversationSla), rows)
    return len(rows)


def _rearm_open_clocks(session: Session, *, org_id: int, team: str | None) -> None:
    """Recompute due moments of unresolved conversations after policies or hours changed."""
    conditions: list[ColumnElement[bool]] = [
        Conversation.org_id == org_id,
        Conversation.merged_into_id.is_(None),
        Conversation.status.not_in(_DONE),
    ]
    if team is not None:
        conditions.append(Conversation.team == team)
    for conversation in session.scalars(select(Conversation).where(*conditions)):
        row = session.scalar(
            select(ConversationSla).where(
                ConversationSla.org_id == org_id,
                ConversationSla.conversation_id == conversation.id,
            )
        )
        if row is not None:
            sync_conversation_sla(session, conversation=conversation, at=utcnow())


def get_conversation_sla(
    session: Session, *, org_id: int, conversation_id: int
) -> ConversationSlaOut | None:
    """The conversation's SLA clocks, or None when it has none (merged, or from before SLAs)."""
    row = session.scalar(
        select(ConversationSla).where(
            ConversationSla.org_id == org_id, ConversationSla.conversation_id == conversation_id
        )
    )
    return ConversationSlaOut.model_validate(row) if row is not None else None


# --- the inbox: badges and the breaching view -----------------------------------------------


def _first_response_running() -> ColumnElement[bool]:
    return and_(
        ConversationSla.first_response_met_at.is_(None),
        ConversationSla.first_response_due_at.is_not(None),
    )


def _resolution_running() -> ColumnElement[bool]:
    return and_(
        ConversationSla.resolution_met_at.is_(None),
        ConversationSla.resolution_running_since.is_not(None),
        ConversationSla.resolution_due_at.is_not(None),
    )


def _at_risk(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(_first_response_running(), ConversationSla.first_response_warn_at <= now),
        and_(_resolution_running(), ConversationSla.resolution_warn_at <= now),
    )


def next_due() -> ColumnElement[Any]:
    """The nearest running due moment of an SLA row (SQL), for ordering."""
    first = and_(
        _first_response_running(),
        or_(
            ~_resolution_running(),
            ConversationSla.first_response_due_at <= ConversationSla.resolution_due_at,
        ),
    )
    return case(
        (first, ConversationSla.first_response_due_at),
        (_resolution_running(), ConversationSla.resolution_due_at),
        else_=None,
    )


def breaching_condition(*, org_id: int, now: datetime) -> ColumnElement[bool]:
    """Conversations with a running target breached or about to be (warning moment passed)."""
    return Conversation.id.in_(
        select(ConversationSla.conversation_id).where(
            ConversationSla.org_id == org_id, _at_risk(now)
        )
    )


def soonest_due_order(*, org_id: int) -> Any:
    """An ORDER BY term for conversations: nearest SLA due moment first."""
    return (
        select(next_due())
        .where(
            ConversationSla.org_id == org_id,
            ConversationSla.conversation_id == Conversation.id,
        )
        .scalar_subquery()
        .asc()
    )


def _badge(row: ConversationSla, now: datetime) -> SlaBadge:
    first = row.first_response_met_at is None and row.first_response_due_at is not None
    resolution = (
        row.resolution_met_at is None
        and row.resolution_running_since is not None
        and row.resolution_due_at is not None
    )
    candidates = []
    if first:
        candidates.append(("first_response", row.first_response_due_at, row.first_response_warn_at))
    if resolution:
        candidates.append(("resolution", row.resolution_due_at, row.resolution_warn_at))
    if not candidates:
        paused = (
            row.resolution_met_at is None
            and row.resolution_target_minutes is not None
            and row.resolution_running_since is None
        )
        return SlaBadge(state=SlaState.paused if paused else SlaState.met, target=None, due_at=None)
    target, due, warn = min(candidates, key=lambda c: c[1] or now)
    assert due is not None
    if due <= now:
        state = SlaState.breached
    elif warn is not None and warn <= now:
        state = SlaState.warning
    else:
        state = SlaState.ok
    return SlaBadge(state=state, target=target, due_at=due)


def list_sla_badges(
    session: Session, *, org_id: int, conversation_ids: Sequence[int], now: datetime
) -> dict[int, SlaBadge]:
    """The SLA badge of each conversation that has SLA clocks."""
    if not conversation_ids:
        return {}
    rows = session.scalars(
        select(ConversationSla).where(
            ConversationSla.org_id == org_id,
            ConversationSla.conversation_id.in_(conversation_ids),
        )
    )
    return {row.conversation_id: _badge(row, now) for row in rows}


# --- breach detection -----------------------------------------------------------------------


def _event(row: ConversationSla, kind: str, target: str, due: datetime | None) -> dict[str, Any]:
    return {
        "type": "sla",
        "conversation_id": row.conversation_id,
        "sla": kind,
        "target": target,
        "due_at": due.isoformat() if due else None,
    }


def check_sla_breaches(
    session: Session, *, org_id: int, now: datetime, limit: int = 1000
) -> SlaCheckReport:
    """Mark breaches and warnings due by `now`, each once; the events say what to show live.

    A first response recorded outside the service's reply (another adapter setting
    `first_response_at`) is taken over first, so it is never reported as breached wrongly.
    """
    report = SlaCheckReport()
    unanswered = and_(
        ConversationSla.first_response_met_at.is_(None),
        Conversation.first_response_at.is_not(None),
    )
    found = session.execute(
        select(ConversationSla, Conversation)
        .join(Conversation, Conversation.id == ConversationSla.conversation_id)
        .where(
            ConversationSla.org_id == org_id,
            Conversation.org_id == org_id,
            Conversation.merged_into_id.is_(None),
            Conversation.status.not_in(_DONE),
            or_(
                unanswered,
                and_(
                    _first_response_running(),
                    or_(
                        and_(
                            ConversationSla.first_response_breached_at.is_(None),
                            ConversationSla.first_response_due_at <= now,
                        ),
                        and_(
                            ConversationSla.first_response_warned_at.is_(None),
                            ConversationSla.first_response_warn_at <= now,
                        ),
                    ),
                ),
                and_(
                    _resolution_running(),
                    or_(
                        and_(
                            ConversationSla.resolution_breached_at.is_(None),
                            ConversationSla.resolution_due_at <= now,
                        ),
                        and_(
                            ConversationSla.resolution_warned_at.is_(None),
                            ConversationSla.resolution_warn_at <= now,
                        ),
                    ),
                ),
            ),
        )
        .order_by(ConversationSla.id)
        .limit(limit)
    ).all()
    for row, conversation in found:
        if row.first_response_met_at is None and conversation.first_response_at is not None:
            sync_conversation_sla(session, conversation=conversation, at=now)
            report.first_responses_recorded += 1
    session.flush()
    for row, _ in found:
        for target in ("first_response", "resolution"):
            due: datetime | None = getattr(row, f"{target}_due_at")
            warn: datetime | None = getattr(row, f"{target}_warn_at")
            if due is None or not _still_running(row, target):
                continue
            if due <= now and getattr(row, f"{target}_breached_at") is None:
                values = {f"{target}_breached_at": due}
                if getattr(row, f"{target}_warned_at") is None:
                    values[f"{target}_warned_at"] = now
                if _mark(session, row, target, "breached", values):
                    if target == "first_response":
                        report.first_response_breached += 1
                    else:
                        report.resolution_breached += 1
                    report.events.append(_event(row, "breached", target, due))
            elif (
                warn is not None
                and warn <= now
                and getattr(row, f"{target}_warned_at") is None
                and _mark(session, row, target, "warned", {f"{target}_warned_at": now})
            ):
                report.warned += 1
                report.events.append(_event(row, "warning", target, due))
        session.expire(row)
    return report


def _still_running(row: ConversationSla, target: str) -> bool:
    if target == "first_response":
        return row.first_response_met_at is None
    return row.resolution_met_at is None and row.resolution_running_since is not None


def _mark(
    session: Session, row: ConversationSla, target: str, mark: str, values: dict[str, datetime]
) -> bool:
    """Set a breach or warning only while the target still runs unmarked, as committed now.

    A conditional UPDATE: a reply or resolution committed since the row was read wins (the
    update finds nothing), and two checks at once mark it once.
    """
    conditions = [
        ConversationSla.id == row.id,
        getattr(ConversationSla, f"{target}_met_at").is_(None),
        getattr(ConversationSla, f"{target}_{mark}_at").is_(None),
    ]
    if target == "resolution":
        conditions.append(ConversationSla.resolution_running_since.is_not(None))
    result = session.execute(
        update(ConversationSla)
        .where(*conditions)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
