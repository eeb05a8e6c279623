"""REST API of routing: agents' routing profiles and presence, teams, rules, team queues."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.conversations.routing import service
from opencx.conversations.routing.schemas import (
    AgentRoutingIn,
    AgentRoutingOut,
    PresenceIn,
    RuleIn,
    RuleOut,
    RulesIn,
    TeamIn,
    TeamOut,
)
from opencx.db import RowId

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


@router.get("/agents", response_model=list[AgentRoutingOut])
def list_agents(principal: ApiPrincipal, db: DbSession) -> list[AgentRoutingOut]:
    """Active agents, managers and admins with languages, skills, capacity, teams, presence, load."""
    return service.list_agents(db, org_id=principal.org_id)


@router.put("/agents/{user_id}", response_model=AgentRoutingOut)
def update_agent(
    user_id: RowId, body: AgentRoutingIn, principal: ApiPrincipal, db: DbSession
) -> AgentRoutingOut:
    """Replace the agent's languages, skills, capacity per channel and teams."""
    return service.update_agent(db, org_id=principal.org_id, user_id=user_id, data=body)


@router.put("/agents/{user_id}/presence", response_model=AgentRoutingOut)
def set_presence(
    user_id: RowId, body: PresenceIn, principal: ApiPrincipal, db: DbSession
) -> AgentRoutingOut:
    """Online takes waiting conversations at once; away and offline take no new ones."""
    return service.set_presence(
        db, org_id=principal.org_id, user_id=user_id, presence=body.presence
    )


@router.get("/teams", response_model=list[TeamOut])
def list_teams(principal: ApiPrincipal, db: DbSession) -> list[TeamOut]:
    return service.list_teams(db, org_id=principal.org_id)


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED)
def create_team(body: TeamIn, principal: ApiPrincipal, db: DbSession) -> TeamOut:
    return service.create_team(db, org_id=principal.org_id, data=body)


@router.put("/teams/{team_id}", response_model=TeamOut)
def update_team(team_id: RowId, body: TeamIn, principal: ApiPrincipal, db: DbSession) -> TeamOut:
    """Rename (conversations follow), change the mode, or make it the default team."""
    return service.update_team(db, org_id=principal.org_id, team_id=team_id, data=body)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_team(team_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_team(db, org_id=principal.org_id, team_id=team_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/rules", response_model=list[RuleOut])
def list_rules(principal: ApiPrincipal, db: DbSession) -> list[RuleOut]:
    """In the order they are tried; the first match wins, else the default team."""
    return service.list_rules(db, org_id=principal.org_id)


@router.put("/rules", response_model=list[RuleOut])
def replace_rules(body: RulesIn, principal: ApiPrincipal, db: DbSession) -> list[RuleOut]:
    """Replace every rule, in the order given."""
    return service.replace_rules(db, org_id=principal.org_id, rules=body.rules)


@router.post("/rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
def create_rule(body: RuleIn, principal: ApiPrincipal, db: DbSession) -> RuleOut:
    """Add a rule after the others."""
    return service.create_rule(db, org_id=principal.org_id, data=body)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: RowId, principal: ApiPrincipal, db: DbSession) -> Response:
    service.delete_rule(db, org_id=principal.org_id, rule_id=rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
