"""Routing pages: the settings page (agents, teams, rules) and the inbox's presence switcher.

The settings page is for managers and admins; every agent sets their own presence. Forms post
and redirect back; a refused form shows the page again with the field and the reason (422).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession, SignedIn
from opencx.auth.models import Role
from opencx.conversations.models import ConversationChannel
from opencx.conversations.routing import service
from opencx.conversations.routing.models import Presence, RoutingMode
from opencx.conversations.routing.schemas import AgentRoutingIn, RuleIn, TeamIn
from opencx.errors import InvalidInput
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/settings/routing"
LEADS = (Role.manager, Role.admin)
M = TypeVar("M", bound=BaseModel)


def _lead(current: SignedIn) -> SignedIn:
    if current.user.role not in LEADS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "routing is set by managers and admins")
    return current


def require_lead(current: CurrentUser) -> SignedIn:
    return _lead(current)


def require_lead_form(current: CsrfChecked) -> SignedIn:
    return _lead(current)


Lead = Annotated[SignedIn, Depends(require_lead)]
LeadForm = Annotated[SignedIn, Depends(require_lead_form)]


def _page(
    request: Request, db: DbSession, current: SignedIn, *, error: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "inbox/routing.html",
        status_code,
        current=current,
        overview=service.get_routing_overview(db, org_id=current.org_id),
        channels=list(ConversationChannel),
        modes=list(RoutingMode),
        error=error,
    )


def _parse(model: type[M], fields: dict[str, Any]) -> M:
    """Form fields into the API's schema; the first problem names its field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"]) from exc


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


@router.get(PAGE, response_class=HTMLResponse)
def routing_page(request: Request, db: DbSession, current: Lead) -> Response:
    return _page(request, db, current)


def _refused(request: Request, db: DbSession, current: SignedIn, exc: InvalidInput) -> Response:
    db.rollback()
    return _page(request, db, current, error=f"{exc.field}: {exc.reason}", status_code=422)


@router.post(PAGE + "/agents/{user_id}", response_class=HTMLResponse)
async def update_agent_page(
    request: Request, user_id: int, db: DbSession, current: LeadForm
) -> Response:
    form = await request.form()
    fields = {
        "languages": _words(str(form.get("languages", ""))),
        "skills": _words(str(form.get("skills", ""))),
        "capacity": {
            c.value: str(form.get(f"capacity_{c.value}") or "0") for c in ConversationChannel
        },
        "teams": [str(t) for t in form.getlist("teams")],
    }
    try:
        data = _parse(AgentRoutingIn, fields)
        service.update_agent(db, org_id=current.org_id, user_id=user_id, data=data)
    except InvalidInput as exc:
        return _refused(request, db, current, exc)
    return RedirectResponse(f"{PAGE}#agent-{user_id}", status_code=303)


@router.post(PAGE + "/teams", response_class=HTMLResponse)
def create_team_page(
    request: Request,
    db: DbSession,
    current: LeadForm,
    name: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = RoutingMode.round_robin.value,
    is_default: Annotated[bool, Form()] = False,
) -> Response:
    try:
        data = _parse(TeamIn, {"name": name.strip(), "mode": mode, "is_default": is_default})
        service.create_team(db, org_id=current.org_id, data=data)
    except InvalidInput as exc:
        return _refused(request, db, current, exc)
    return RedirectResponse(f"{PAGE}#teams", status_code=303)


@router.post(PAGE + "/teams/{team_id}", response_class=HTMLResponse)
def update_team_page(
    request: Request,
    team_id: int,
    db: DbSession,
    current: LeadForm,
    name: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = RoutingMode.round_robin.value,
    is_default: Annotated[bool, Form()] = False,
) -> Response:
    try:
        data = _parse(TeamIn, {"name": name.strip(), "mode": mode, "is_default": is_default})
        service.update_team(db, org_id=current.org_id, team_id=team_id, data=data)
    except InvalidInput as exc:
        return _refused(request, db, current, exc)
    return RedirectResponse(f"{PAGE}#teams", status_code=303)


@router.post(PAGE + "/teams/{team_id}/delete")
def delete_team_page(team_id: int, db: DbSession, current: LeadForm) -> Response:
    service.delete_team(db, org_id=current.org_id, team_id=team_id)
    return RedirectResponse(f"{PAGE}#teams", status_code=303)


@router.post(PAGE + "/rules", response_class=HTMLResponse)
def create_rule_page(
    request: Request,
    db: DbSession,
    current: LeadForm,
    team_id: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    touchpoint_id: Annotated[str, Form()] = "",
) -> Response:
    fields = {
        "team_id": team_id or None,
        "channel": channel or None,
        "language": language.strip().lower() or None,
        "tag": tag.strip() or None,
        "touchpoint_id": touchpoint_id or None,
    }
    try:
        service.create_rule(db, org_id=current.org_id, data=_parse(RuleIn, fields))
    except InvalidInput as exc:
        return _refused(request, db, current, exc)
    return RedirectResponse(f"{PAGE}#rules", status_code=303)


@router.post(PAGE + "/rules/{rule_id}/move")
def move_rule_page(
    rule_id: int, db: DbSession, current: LeadForm, step: Annotated[int, Form()] = 0
) -> Response:
    service.move_rule(db, org_id=current.org_id, rule_id=rule_id, step=step)
    return RedirectResponse(f"{PAGE}#rules", status_code=303)


@router.post(PAGE + "/rules/{rule_id}/delete")
def delete_rule_page(rule_id: int, db: DbSession, current: LeadForm) -> Response:
    service.delete_rule(db, org_id=current.org_id, rule_id=rule_id)
    return RedirectResponse(f"{PAGE}#rules", status_code=303)


@router.post("/inbox/presence")
def set_my_presence(
    db: DbSession,
    current: CsrfChecked,
    presence: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/inbox",
) -> Response:
    """The inbox's switcher: the signed-in agent's own presence."""
    if presence not in Presence.__members__:
        raise InvalidInput("presence", f"one of {', '.join(Presence)}")
    service.set_presence(
        db, org_id=current.org_id, user_id=current.user.id, presence=Presence(presence)
    )
    # Only back into the inbox: never an open redirect.
    target = back if back.startswith("/inbox") and not back.startswith("//") else "/inbox"
    return RedirectResponse(target, status_code=303)
