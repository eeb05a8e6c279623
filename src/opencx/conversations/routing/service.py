"""Routing: who takes a new conversation, by team queue, language, skills, capacity and presence.

A new conversation (or a resolved one that reopens while its agent is not online) goes to a
team: its own team when it names one, else the first rule that matches, else the default
team. It waits in that team's queue until an agent of the team is **available**: presence
online (and their inbox not closed for longer than `AWAY_AFTER`), and fewer open conversations
of that channel than their capacity. Among the available agents: those who speak the
conversation's language when any online member of the team does (else it waits for them to
free up), then those with the most skills matching its tags, then by the team's mode.

Queues are served oldest first whenever capacity may have appeared: a conversation arrives,
an agent comes online, a conversation is resolved, closed, merged or reassigned, an agent's
profile changes. Every decision of an organization first updates its `RoutingSettings` row,
so decisions run one at a time (a row lock on PostgreSQL; SQLite lets one writer at a time):
two conversations arriving at once never put an agent over capacity. Routing runs inside the
transaction of what caused it (the inbound message, the resolution), so it is stored with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.auth.models import Role, User
from opencx.conversations import service as conversations
from opencx.conversations.models import Conversation, ConversationChannel, ConversationStatus
from opencx.conversations.routing.models import (
    Presence,
    RoutingAgent,
    RoutingMode,
    RoutingQueueEntry,
    RoutingRule,
    RoutingSettings,
    RoutingTeam,
    RoutingTeamMember,
)
from opencx.conversations.routing.schemas import (
    DEFAULT_CAPACITY,
    AgentRoutingIn,
    AgentRoutingOut,
    DeskStatus,
    QueuedConversation,
    RoutingOverview,
    RuleIn,
    RuleOut,
    TeamIn,
    TeamOut,
    TeamQueue,
)
from opencx.customers import service as customers
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.live import publish_after_commit
from opencx.text import UNKNOWN, detect_language

DESK_ROLES = (Role.agent, Role.manager, Role.admin)
# An online agent whose inbox has been closed this long takes no new conversations (away).
AWAY_AFTER = timedelta(minutes=2)
_WAITING = (ConversationStatus.open, ConversationStatus.pending)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def agent_topic(org_id: int, user_id: int) -> str:
    """Live topic of one agent's open inboxes: how many there are tells whether they are here."""
    return f"agent:{org_id}:{user_id}"


# --- the lock and the settings row -----------------------------------------------------------


def _settings(session: Session, *, org_id: int, create: bool = False) -> RoutingSettings | None:
    row = session.scalar(select(RoutingSettings).where(RoutingSettings.org_id == org_id))
    if row is None and create:
        row = RoutingSettings(org_id=org_id, decisions=0)
        session.add(row)
        session.flush()
    return row


def _lock(session: Session, *, org_id: int) -> bool:
    """Take the organization's routing lock until commit; False when it does not route."""
    result = session.execute(
        update(RoutingSettings)
        .where(RoutingSettings.org_id == org_id)
        .values(decisions=RoutingSettings.decisions + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- agents ----------------------------------------------------------------------------------


def _desk_users(session: Session, *, org_id: int) -> list[User]:
    return [
        u for u in auth.list_users(session, org_id=org_id) if u.role in DESK_ROLES and u.is_active
    ]


def _desk_user(session: Session, *, org_id: int, user_id: int) -> User:
    for user in _desk_users(session, org_id=org_id):
        if user.id == user_id:
            return user
    raise NotFound("agent", user_id)


def _agent_rows(
    session: Session, *, org_id: int, online_among: set[int] | None = None
) -> dict[int, RoutingAgent]:
    query = select(RoutingAgent).where(RoutingAgent.org_id == org_id)
    if online_among is not None:
        query = query.where(
            RoutingAgent.user_id.in_(online_among), RoutingAgent.presence == Presence.online
        )
    rows = session.scalars(query.execution_options(populate_existing=True))
    return {a.user_id: a for a in rows}


def _teams(session: Session, *, org_id: int) -> list[RoutingTeam]:
    return list(
        session.scalars(
            select(RoutingTeam).where(RoutingTeam.org_id == org_id).order_by(RoutingTeam.name)
        )
    )


def _memberships(
    session: Session, *, org_id: int, team_ids: set[int] | None = None
) -> dict[int, set[int]]:
    """team id -> user ids (of `team_ids`, else of every team)."""
    found: dict[int, set[int]] = {}
    query = select(RoutingTeamMember.team_id, RoutingTeamMember.user_id).where(
        RoutingTeamMember.org_id == org_id
    )
    if team_ids is not None:
        query = query.where(RoutingTeamMember.team_id.in_(team_ids))
    rows = session.execute(query)
    for team_id, user_id in rows:
        found.setdefault(team_id, set()).add(user_id)
    return found


def _loads(
    session: Session, *, org_id: int, user_ids: set[int] | None = None
) -> dict[int, dict[str, int]]:
    """user id -> channel -> open and pending conversations assigned to them."""
    found: dict[int, dict[str, int]] = {}
    assigned = (
        Conversation.assignee_id.is_not(None)
        if user_ids is None
        else Conversation.assignee_id.in_(user_ids)
    )
    rows = session.execute(
        select(Conversation.assignee_id, Conversation.channel, func.count())
        .where(
            Conversation.org_id == org_id,
            assigned,
            Conversation.status.in_(_WAITING),
            Conversation.merged_into_id.is_(None),
        )
        .group_by(Conversation.assignee_id, Conversation.channel)
    )
    for user_id, channel, count in rows:
        if user_id is not None:  # filtered above; the column type allows it
            found.setdefault(user_id, {})[ConversationChannel(channel).value] = count
    return found


def _effective_presence(agent: RoutingAgent, now: datetime) -> Presence:
    if (
        agent.presence is Presence.online
        and agent.disconnected_at is not None
        and now - agent.disconnected_at >= AWAY_AFTER
    ):
        return Presence.away
    return agent.presence


def _announce_presence(session: Session, agent: RoutingAgent) -> None:
    publish_after_commit(
        session,
        conversations.inbox_topic(agent.org_id),
        {"type": "presence", "user_id": agent.user_id, "presence": agent.presence.value},
    )


def _set_presence(agent: RoutingAgent, presence: Presence, at: datetime) -> bool:
    if agent.presence is presence:
        return False
    agent.presence = presence
    agent.presence_changed_at = at
    return True


def _settle_presence(session: Session, agent: RoutingAgent, now: datetime) -> None:
    """Store `away` for an online agent whose inbox has been closed too long."""
    if (
        _effective_presence(agent, now) is Presence.away
        and agent.disconnected_at is not None
        and _set_presence(agent, Presence.away, agent.disconnected_at + AWAY_AFTER)
    ):
        _announce_presence(session, agent)


def _agent_out(
    user: User,
    agent: RoutingAgent | None,
    teams: list[str],
    load: dict[str, int],
    now: datetime,
) -> AgentRoutingOut:
    if agent is None:
        return AgentRoutingOut(
            user_id=user.id,
            name=user.name,
            role=user.role,
            configured=False,
            languages=[],
            skills=[],
            capacity={c.value: n for c, n in DEFAULT_CAPACITY.items()},
            teams=teams,
            presence=Presence.offline,
            presence_changed_at=None,
            load=load,
        )
    return AgentRoutingOut(
        user_id=user.id,
        name=user.name,
        role=user.role,
        configured=True,
        languages=list(agent.languages),
        skills=list(agent.skills),
        capacity=dict(agent.capacity),
        teams=teams,
        presence=_effective_presence(agent, now),
        presence_changed_at=agent.presence_changed_at,
        load=load,
    )


def list_agents(
    session: Session, *, org_id: int, now: datetime | None = None
) -> list[AgentRoutingOut]:
    """Every active agent, manager and admin with their routing profile (defaults when none)."""
    now = now or utcnow()
    agents = _agent_rows(session, org_id=org_id)
    teams = {t.id: t.name for t in _teams(session, org_id=org_id)}
    member_of: dict[int, list[str]] = {}
    for team_id, users in _memberships(session, org_id=org_id).items():
        for user_id in users:
            member_of.setdefault(user_id, []).append(teams[team_id])
    loads = _loads(session, org_id=org_id)
    return [
        _agent_out(u, agents.get(u.id), sorted(member_of.get(u.id, [])), loads.get(u.id, {}), now)
        for u in sorted(_desk_users(session, org_id=org_id), key=lambda u: u.name)
    ]


def get_agent(
    session: Session, *, org_id: int, user_id: int, now: datetime | None = None
) -> AgentRoutingOut:
    for agent in list_agents(session, org_id=org_id, now=now):
        if agent.user_id == user_id:
            return agent
    raise NotFound("agent", user_id)


def _agent_row(session: Session, *, org_id: int, user_id: int, now: datetime) -> RoutingAgent:
    _desk_user(session, org_id=org_id, user_id=user_id)
    agent = _agent_rows(session, org_id=org_id).get(user_id)
    if agent is None:
        capacity = {c.value: n for c, n in DEFAULT_CAPACITY.items()}
        agent = RoutingAgent(
            org_id=org_id,
            user_id=user_id,
            languages=[],
            skills=[],
            capacity=capacity,
            presence=Presence.offline,
            presence_changed_at=now,
        )
        session.add(agent)
        session.flush()
    return agent


def update_agent(
    session: Session,
    *,
    org_id: int,
    user_id: int,
    data: AgentRoutingIn,
    now: datetime | None = None,
) -> AgentRoutingOut:
    """Set an agent's languages, skills, capacity per channel and teams (by name)."""
    now = now or utcnow()
    by_name = {t.name: t for t in _teams(session, org_id=org_id)}
    for name in data.teams:
        if name not in by_name:
            raise InvalidInput("teams", f"no team named {name!r}")
    _settings(session, org_id=org_id, create=True)
    _lock(session, org_id=org_id)
    agent = _agent_row(session, org_id=org_id, user_id=user_id, now=now)
    agent.languages = list(data.languages)
    agent.skills = list(data.skills)
    agent.capacity = {channel.value: n for channel, n in data.capacity.items()}
    wanted = {by_name[name].id for name in data.teams}
    session.execute(
        delete(RoutingTeamMember).where(
            RoutingTeamMember.org_id == org_id,
            RoutingTeamMember.user_id == user_id,
            RoutingTeamMember.team_id.not_in(wanted),
        )
    )
    have = set(
        session.scalars(
            select(RoutingTeamMember.team_id).where(
                RoutingTeamMember.org_id == org_id, RoutingTeamMember.user_id == user_id
            )
        )
    )
    for team_id in sorted(wanted - have):
        session.add(RoutingTeamMember(org_id=org_id, team_id=team_id, user_id=user_id))
    session.flush()
    # More capacity or a new team may let waiting conversations in.
    _serve_queues(session, org_id=org_id, now=now)
    return get_agent(session, org_id=org_id, user_id=user_id, now=now)


def set_presence(
    session: Session,
    *,
    org_id: int,
    user_id: int,
    presence: Presence,
    now: datetime | None = None,
) -> AgentRoutingOut:
    """Set an agent online, away or offline; going online takes waiting conversations."""
    now = now or utcnow()
    _settings(session, org_id=org_id, create=True)
    _lock(session, org_id=org_id)
    agent = _agent_row(session, org_id=org_id, user_id=user_id, now=now)
    if _effective_presence(agent, now) is not presence or agent.presence is not presence:
        agent.presence = presence
        agent.presence_changed_at = now
        if presence is Presence.online:
            # Chosen by a person who is here, even when their inbox is not open now.
            agent.disconnected_at = None
        session.flush()
        _announce_presence(session, agent)
    if presence is Presence.online:
        _serve_queues(session, org_id=org_id, now=now)
    return get_agent(session, org_id=org_id, user_id=user_id, now=now)


def record_inbox_opened(
    session: Session, *, org_id: int, user_id: int, now: datetime | None = None
) -> None:
    """An inbox socket of the agent opened: they are at their desk (presence stays as chosen)."""
    session.execute(
        update(RoutingAgent)
        .where(RoutingAgent.org_id == org_id, RoutingAgent.user_id == user_id)
        .values(disconnected_at=None, updated_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def record_inbox_closed(
    session: Session, *, org_id: int, user_id: int, now: datetime | None = None
) -> None:
    """The agent's last inbox socket closed; after `AWAY_AFTER` without one they are away."""
    now = now or utcnow()
    session.execute(
        update(RoutingAgent)
        .where(
            RoutingAgent.org_id == org_id,
            RoutingAgent.user_id == user_id,
            RoutingAgent.disconnected_at.is_(None),
        )
        .values(disconnected_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def settle_presence(
    session: Session, *, org_id: int, user_id: int, now: datetime | None = None
) -> Presence | None:
    """Store `away` when the agent's inbox has been closed too long; their presence, or None."""
    now = now or utcnow()
    agent = _agent_rows(session, org_id=org_id).get(user_id)
    if agent is None:
        return None
    _settle_presence(session, agent, now)
    session.flush()
    return agent.presence


# --- teams -----------------------------------------------------------------------------------


def _team(session: Session, *, org_id: int, team_id: int) -> RoutingTeam:
    team = session.scalar(
        select(RoutingTeam).where(RoutingTeam.org_id == org_id, RoutingTeam.id == team_id)
    )
    if team is None:
        raise NotFound("team", team_id)
    return team


def _waiting_counts(session: Session, *, org_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Conversation.team, func.count())
        .where(
            Conversation.org_id == org_id,
            Conversation.team.is_not(None),
            Conversation.assignee_id.is_(None),
            Conversation.status.in_(_WAITING),
            Conversation.merged_into_id.is_(None),
        )
        .group_by(Conversation.team)
    )
    return {team: count for team, count in rows if team is not None}


def list_teams(session: Session, *, org_id: int) -> list[TeamOut]:
    """Teams by name with their members and how many conversations wait unassigned."""
    settings = _settings(session, org_id=org_id)
    default_id = settings.default_team_id if settings else None
    members = _memberships(session, org_id=org_id)
    waiting = _waiting_counts(session, org_id=org_id)
    return [
        TeamOut(
            id=t.id,
            name=t.name,
            mode=t.mode,
            is_default=t.id == default_id,
            members=sorted(members.get(t.id, set())),
            waiting=waiting.get(t.name, 0),
        )
        for t in _teams(session, org_id=org_id)
    ]


def _team_out(session: Session, *, org_id: int, team_id: int) -> TeamOut:
    return next(t for t in list_teams(session, org_id=org_id) if t.id == team_id)


def _check_team_name(session: Session, *, org_id: int, name: str, team_id: int | None) -> None:
    clash = session.scalar(
        select(RoutingTeam.id).where(
            RoutingTeam.org_id == org_id, RoutingTeam.name == name, RoutingTeam.id != (team_id or 0)
        )
    )
    if clash is not None:
        raise InvalidInput("name", f"team {clash} has this name already")


def _apply_default(settings: RoutingSettings, team: RoutingTeam, is_default: bool) -> None:
    if is_default:
        settings.default_team_id = team.id
    elif settings.default_team_id == team.id:
        settings.default_team_id = None


def create_team(session: Session, *, org_id: int, data: TeamIn) -> TeamOut:
    """A new team with its queue; `is_default` makes it take what no rule matches."""
    _check_team_name(session, org_id=org_id, name=data.name, team_id=None)
    settings = _settings(session, org_id=org_id, create=True)
    assert settings is not None
    team = RoutingTeam(org_id=org_id, name=data.name, mode=data.mode)
    session.add(team)
    session.flush()
    _apply_default(settings, team, data.is_default)
    session.flush()
    return _team_out(session, org_id=org_id, team_id=team.id)


def update_team(session: Session, *, org_id: int, team_id: int, data: TeamIn) -> TeamOut:
    """Rename a team (its conversations follow), change its mode or make it the default."""
    team = _team(session, org_id=org_id, team_id=team_id)
    _check_team_name(session, org_id=org_id, name=data.name, team_id=team.id)
    settings = _settings(session, org_id=org_id, create=True)
    assert settings is not None
    if data.name != team.name:
        session.execute(
            update(Conversation)
            .where(Conversation.org_id == org_id, Conversation.team == team.name)
            .values(team=data.name)
            .execution_options(synchronize_session=False)
        )
    team.name = data.name
    team.mode = data.mode
    _apply_default(settings, team, data.is_default)
    session.flush()
    return _team_out(session, org_id=org_id, team_id=team.id)


def delete_team(session: Session, *, org_id: int, team_id: int) -> None:
    """Delete a team, its rules and its queue (its conversations keep the name and agents)."""
    team = _team(session, org_id=org_id, team_id=team_id)
    settings = _settings(session, org_id=org_id)
    if settings is not None and settings.default_team_id == team.id:
        settings.default_team_id = None
    for model in (RoutingRule, RoutingQueueEntry, RoutingTeamMember):
        session.execute(delete(model).where(model.org_id == org_id, model.team_id == team.id))
    session.delete(team)
    session.flush()


# --- rules -----------------------------------------------------------------------------------


def list_rules(session: Session, *, org_id: int) -> list[RuleOut]:
    """The rules in the order they are tried."""
    rows = session.scalars(
        select(RoutingRule)
        .where(RoutingRule.org_id == org_id)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return [RuleOut.model_validate(r) for r in rows]


def _check_rule(session: Session, *, org_id: int, rule: RuleIn, field: str) -> None:
    if (rule.channel, rule.language, rule.tag, rule.touchpoint_id) == (None, None, None, None):
        raise InvalidInput(field, "a rule needs a condition (the default team takes the rest)")
    _team(session, org_id=org_id, team_id=rule.team_id)
    if rule.touchpoint_id is not None:
        journeys.get_touchpoint(session, org_id=org_id, touchpoint_id=rule.touchpoint_id)


def _rule_row(org_id: int, position: int, rule: RuleIn) -> RoutingRule:
    return RoutingRule(
        org_id=org_id,
        position=position,
        channel=rule.channel,
        language=rule.language,
        tag=rule.tag.strip().lower() if rule.tag else None,
        touchpoint_id=rule.touchpoint_id,
        team_id=rule.team_id,
    )


def replace_rules(session: Session, *, org_id: int, rules: list[RuleIn]) -> list[RuleOut]:
    """Replace every rule with `rules`, in that order."""
    for index, rule in enumerate(rules):
        try:
            _check_rule(session, org_id=org_id, rule=rule, field=f"rules.{index}")
        except NotFound as exc:
            raise InvalidInput(f"rules.{index}.{exc.what.replace(' ', '_')}_id", str(exc)) from exc
    _settings(session, org_id=org_id, create=True)
    session.execute(delete(RoutingRule).where(RoutingRule.org_id == org_id))
    for position, rule in enumerate(rules, start=1):
        session.add(_rule_row(org_id, position, rule))
    session.flush()
    return list_rules(session, org_id=org_id)


def create_rule(session: Session, *, org_id: int, data: RuleIn) -> RuleOut:
    """Add a rule after the others."""
    try:
        _check_rule(session, org_id=org_id, rule=data, field="channel")
    except NotFound as exc:
        raise InvalidInput(f"{exc.what.replace(' ', '_')}_id", str(exc)) from exc
    _settings(session, org_id=org_id, create=True)
    last = session.scalar(
        select(func.max(RoutingRule.position)).where(RoutingRule.org_id == org_id)
    )
    rule = _rule_row(org_id, (last or 0) + 1, data)
    session.add(rule)
    session.flush()
    return RuleOut.model_validate(rule)


def _rule(session: Session, *, org_id: int, rule_id: int) -> RoutingRule:
    rule = session.scalar(
        select(RoutingRule).where(RoutingRule.org_id == org_id, RoutingRule.id == rule_id)
    )
    if rule is None:
        raise NotFound("rule", rule_id)
    return rule


def delete_rule(session: Session, *, org_id: int, rule_id: int) -> None:
    session.delete(_rule(session, org_id=org_id, rule_id=rule_id))
    session.flush()


def move_rule(session: Session, *, org_id: int, rule_id: int, step: int) -> list[RuleOut]:
    """Move a rule earlier (step -1) or later (+1) in the order."""
    if step not in (-1, 1):
        raise InvalidInput("step", "-1 (earlier) or 1 (later)")
    rule = _rule(session, org_id=org_id, rule_id=rule_id)
    ordered = list(
        session.scalars(
            select(RoutingRule)
            .where(RoutingRule.org_id == org_id)
            .order_by(RoutingRule.position, RoutingRule.id)
        )
    )
    at = ordered.index(rule)
    to = at + step
    if 0 <= to < len(ordered):
        ordered[at], ordered[to] = ordered[to], ordered[at]
    for position, row in enumerate(ordered, start=1):
        row.position = position
    session.flush()
    return list_rules(session, org_id=org_id)


def _matches(rule: RoutingRule, conversation: Conversation, language: str | None) -> bool:
    return (
        (rule.channel is None or rule.channel == conversation.channel)
        and (rule.language is None or rule.language == language)
        and (rule.tag is None or rule.tag in conversation.tags)
        and (rule.touchpoint_id is None or rule.touchpoint_id == conversation.touchpoint_id)
    )


def _choose_team(
    session: Session, *, org_id: int, conversation: Conversation, language: str | None
) -> RoutingTeam | None:
    teams = {t.id: t for t in _teams(session, org_id=org_id)}
    if conversation.team is not None:
        named = next((t for t in teams.values() if t.name == conversation.team), None)
        if named is not None:
            return named
    rules = session.scalars(
        select(RoutingRule)
        .where(RoutingRule.org_id == org_id)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    for rule in rules:
        if _matches(rule, conversation, language):
            return teams[rule.team_id]
    settings = _settings(session, org_id=org_id)
    if settings is not None and settings.default_team_id is not None:
        return teams.get(settings.default_team_id)
    return None


# --- assignment ------------------------------------------------------------------------------


@dataclass
class _Pool:
    """The organization's agents as one routing decision sees them (taken under the lock)."""

    agents: dict[int, RoutingAgent]
    members: dict[int, set[int]]
    loads: dict[int, dict[str, int]]
    modes: dict[int, RoutingMode]
    now: datetime
    assigned: list[int] = field(default_factory=list)

    def online(self, user_id: int) -> bool:
        agent = self.agents.get(user_id)
        return agent is not None and _effective_presence(agent, self.now) is Presence.online

    def free(self, user_id: int, channel: ConversationChannel) -> bool:
        agent = self.agents[user_id]
        limit = int(agent.capacity.get(channel.value, 0))
        return self.loads.get(user_id, {}).get(channel.value, 0) < limit

    def pick(
        self, team_id: int, conversation: Conversation, language: str | None
    ) -> RoutingAgent | None:
        online = [u for u in sorted(self.members.get(team_id, set())) if self.online(u)]
        if language is not None and any(language in self.agents[u].languages for u in online):
            # A speaker of the language is here: the conversation waits for them if need be.
            online = [u for u in online if language in self.agents[u].languages]
        candidates = [self.agents[u] for u in online if self.free(u, conversation.channel)]
        if not candidates:
            return None
        tags = set(conversation.tags)
        best = max(len(tags & set(a.skills)) for a in candidates)
        candidates = [a for a in candidates if len(tags & set(a.skills)) == best]

        def recency(agent: RoutingAgent) -> tuple[datetime, int]:
            return (agent.last_assigned_at or _EARLIEST, agent.user_id)

        if self.modes[team_id] is RoutingMode.least_loaded:
            return min(
                candidates,
                key=lambda a: (sum(self.loads.get(a.user_id, {}).values()), *recency(a)),
            )
        return min(candidates, key=recency)

    def teams_with_room(self) -> set[int]:
        """Teams with an online member who has room on some channel: only their queues can move."""
        return {
            team_id
            for team_id, users in self.members.items()
            if any(
                self.online(u)
                and any(self.free(u, ConversationChannel(c)) for c in self.agents[u].capacity)
                for u in users
            )
        }

    def take(self, agent: RoutingAgent, channel: ConversationChannel) -> None:
        load = self.loads.setdefault(agent.user_id, {})
        load[channel.value] = load.get(channel.value, 0) + 1
        agent.last_assigned_at = self.now


def _pool(
    session: Session, *, org_id: int, now: datetime, team_ids: set[int] | None = None
) -> _Pool:
    """The online members of `team_ids` (else of every team), with their loads."""
    members = _memberships(session, org_id=org_id, team_ids=team_ids)
    users = set().union(*members.values())
    agents = _agent_rows(session, org_id=org_id, online_among=users)
    for agent in agents.values():
        _settle_presence(session, agent, now)
    active = {u.id for u in _desk_users(session, org_id=org_id)}
    here = {u: a for u, a in agents.items() if u in active and a.presence is Presence.online}
    return _Pool(
        agents=here,
        members=members,
        loads=_loads(session, org_id=org_id, user_ids=set(here)),
        modes={t.id: t.mode for t in _teams(session, org_id=org_id)},
        now=now,
    )


def _serve_queues(
    session: Session, *, org_id: int, now: datetime, team_ids: set[int] | None = None
) -> list[int]:
    """Assign waiting conversations (of `team_ids`, else all), oldest first; their ids.

    The caller holds the routing lock. Queues of teams where nobody online has room are not
    even read, so a long backlog costs a new message little.
    """
    pool = _pool(session, org_id=org_id, now=now, team_ids=team_ids)
    movable = pool.teams_with_room()
    if not movable:
        return []
    rows = session.execute(
        select(RoutingQueueEntry, Conversation)
        .join(Conversation, Conversation.id == RoutingQueueEntry.conversation_id)
        .where(
            RoutingQueueEntry.org_id == org_id,
            Conversation.org_id == org_id,
            RoutingQueueEntry.team_id.in_(movable),
        )
        .order_by(RoutingQueueEntry.queued_at, RoutingQueueEntry.id)
        .execution_options(populate_existing=True)
    ).all()
    for entry, conversation in rows:
        if (
            conversation.status not in _WAITING
            or conversation.assignee_id is not None
            or conversation.merged_into_id is not None
        ):
            session.delete(entry)  # answered another way: it no longer waits
            continue
        agent = pool.pick(entry.team_id, conversation, entry.language)
        if agent is None:
            continue
        conversation.assignee_id = agent.user_id
        pool.take(agent, conversation.channel)
        pool.assigned.append(conversation.id)
        session.delete(entry)
        session.flush()
        conversations.announce_conversation(session, conversation)
    session.flush()
    return pool.assigned


def _language(session: Session, *, conversation: Conversation, text: str) -> str | None:
    """The message's language when it is clear, else the customer's; None when unknown."""
    detected = detect_language(text).language if text.strip() else UNKNOWN
    if detected != UNKNOWN:
        return detected
    customer = customers.get_customer(
        session, org_id=conversation.org_id, customer_id=conversation.customer_id
    )
    return (customer.language or "").lower()[:2] or None


def _available(session: Session, *, org_id: int, user_id: int, now: datetime) -> bool:
    agent = _agent_rows(session, org_id=org_id).get(user_id)
    return agent is not None and _effective_presence(agent, now) is Presence.online


def route_conversation(
    session: Session,
    *,
    org_id: int,
    conversation: Conversation,
    text: str,
    now: datetime | None = None,
) -> None:
    """Queue a new (or reopened) conversation in its team and assign it when someone is free.

    A reopened conversation stays with its agent while they are online. Nothing happens in an
    organization without routing (no team yet).
    """
    now = now or utcnow()
    if not _lock(session, org_id=org_id):
        return
    if conversation.assignee_id is not None and _available(
        session, org_id=org_id, user_id=conversation.assignee_id, now=now
    ):
        return
    language = _language(session, conversation=conversation, text=text)
    team = _choose_team(session, org_id=org_id, conversation=conversation, language=language)
    if team is None:
        return
    conversation.assignee_id = None
    conversation.team = team.name
    _queue(session, org_id=org_id, conversation=conversation, team=team, language=language, now=now)
    _serve_queues(session, org_id=org_id, now=now, team_ids={team.id})


def _queue(
    session: Session,
    *,
    org_id: int,
    conversation: Conversation,
    team: RoutingTeam,
    language: str | None,
    now: datetime,
) -> None:
    entry = session.scalar(
        select(RoutingQueueEntry).where(
            RoutingQueueEntry.org_id == org_id,
            RoutingQueueEntry.conversation_id == conversation.id,
        )
    )
    if entry is None:
        entry = RoutingQueueEntry(org_id=org_id, conversation_id=conversation.id, queued_at=now)
        session.add(entry)
    entry.team_id = team.id
    entry.language = language
    session.flush()


def release_conversation(
    session: Session,
    *,
    org_id: int,
    conversation: Conversation,
    now: datetime | None = None,
) -> None:
    """A conversation was resolved, closed, merged or moved to another agent: serve the queues.

    An open conversation left with no agent but with a team goes back to the team's queue.
    """
    now = now or utcnow()
    if not _lock(session, org_id=org_id):
        return
    waiting = conversation.status in _WAITING and conversation.merged_into_id is None
    if waiting and conversation.assignee_id is None and conversation.team is not None:
        team = next(
            (t for t in _teams(session, org_id=org_id) if t.name == conversation.team), None
        )
        if team is not None:
            language = _language(session, conversation=conversation, text="")
            _queue(
                session,
                org_id=org_id,
                conversation=conversation,
                team=team,
                language=language,
                now=now,
            )
    _serve_queues(session, org_id=org_id, now=now)


# --- what the pages show ---------------------------------------------------------------------


def get_desk_status(
    session: Session, *, org_id: int, user_id: int, now: datetime | None = None
) -> DeskStatus:
    """The agent's presence and every team queue (their teams first) for the inbox."""
    now = now or utcnow()
    if _settings(session, org_id=org_id) is None:
        return DeskStatus(routing=False, presence=None, presence_changed_at=None, queues=[])
    agent = _agent_rows(session, org_id=org_id).get(user_id)
    members = _memberships(session, org_id=org_id)
    teams = _teams(session, org_id=org_id)
    waiting: dict[str, list[QueuedConversation]] = {t.name: [] for t in teams}
    entries = {
        conversation_id: (language, queued_at)
        for conversation_id, language, queued_at in session.execute(
            select(
                RoutingQueueEntry.conversation_id,
                RoutingQueueEntry.language,
                RoutingQueueEntry.queued_at,
            ).where(RoutingQueueEntry.org_id == org_id)
        )
    }
    rows = session.scalars(
        select(Conversation)
        .where(
            Conversation.org_id == org_id,
            Conversation.team.in_(list(waiting)),
            Conversation.assignee_id.is_(None),
            Conversation.status.in_(_WAITING),
            Conversation.merged_into_id.is_(None),
        )
        .order_by(Conversation.created_at, Conversation.id)
    )
    for c in rows:
        waiting[c.team or ""].append(
            QueuedConversation(
                conversation_id=c.id,
                channel=c.channel,
                language=entries.get(c.id, (None, None))[0],
                queued_at=entries.get(c.id, (None, c.created_at))[1] or c.created_at,
            )
        )
    queues = [
        TeamQueue(
            team=t.name,
            mode=t.mode,
            member=user_id in members.get(t.id, set()),
            waiting=waiting[t.name],
        )
        for t in teams
    ]
    queues.sort(key=lambda q: (not q.member, q.team))
    return DeskStatus(
        routing=True,
        presence=_effective_presence(agent, now) if agent else Presence.offline,
        presence_changed_at=agent.presence_changed_at if agent else None,
        queues=queues,
    )


def get_routing_overview(
    session: Session, *, org_id: int, now: datetime | None = None
) -> RoutingOverview:
    """Agents, teams, rules and touchpoint names for the routing settings page."""
    return RoutingOverview(
        agents=list_agents(session, org_id=org_id, now=now),
        teams=list_teams(session, org_id=org_id),
        rules=list_rules(session, org_id=org_id),
        touchpoints={t.id: t.name for t in journeys.list_touchpoints(session, org_id=org_id)},
    )
