"""The agent inbox: queues, the conversation with reply box and macros, the customer 360 beside it.

Forms post and redirect back (they work without JavaScript); htmx swaps the changed parts. A
WebSocket (/inbox/live) tells the open page what changed, so it refreshes without a reload;
an open socket also counts the agent as online for the web chat.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import (
    APIRouter,
    Depends,
    Form,
    HTTPException,
    Request,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from opencx.auth import service as auth
from opencx.auth.deps import SESSION_COOKIE, CsrfChecked, CurrentUser, DbSession, SignedIn
from opencx.auth.models import Role
from opencx.conversations import service, sla, sla_metrics
from opencx.conversations.models import ConversationStatus
from opencx.conversations.routing import service as routing
from opencx.conversations.schemas import (
    AssignIn,
    BusinessHoursIn,
    ConversationPatch,
    InboxView,
    NoteIn,
    ReplyIn,
    SlaPolicyIn,
)
from opencx.db import session_scope, utcnow
from opencx.errors import InvalidInput
from opencx.live import hub
from opencx.textanalytics import service as textanalytics
from opencx.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

DESK_ROLES = (Role.agent, Role.manager, Role.admin)


def _agent(current: SignedIn) -> SignedIn:
    if current.user.role not in DESK_ROLES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the inbox is for agents, managers and admins"
        )
    return current


def require_agent(current: CurrentUser) -> SignedIn:
    return _agent(current)


def require_agent_form(current: CsrfChecked) -> SignedIn:
    return _agent(current)


Agent = Annotated[SignedIn, Depends(require_agent)]
AgentForm = Annotated[SignedIn, Depends(require_agent_form)]


def _back(conversation_id: int, view: str) -> RedirectResponse:
    view = view if view in InboxView.__members__ else InboxView.open.value
    return RedirectResponse(f"/inbox/{conversation_id}?view={view}", status_code=303)


def _inbox(
    request: Request,
    db: DbSession,
    agent: SignedIn,
    view: str,
    conversation_id: int | None,
    team: str,
) -> Response:
    chosen = InboxView(view) if view in InboxView.__members__ else InboxView.open
    page = service.get_inbox(
        db,
        org_id=agent.org_id,
        user_id=agent.user.id,
        view=chosen,
        conversation_id=conversation_id,
        team=team or None,
    )
    # Sentiment badges: the selected conversation's customer messages and the customer's recent texts.
    feelings = textanalytics.get_timeline_feelings(
        db,
        org_id=agent.org_id,
        timeline=page.customer.timeline if page.customer else [],
        message_ids=[m.id for m in page.selected.messages] if page.selected else [],
    )
    return render(
        request,
        "inbox/page.html",
        current=agent,
        inbox=page,
        statuses=list(ConversationStatus),
        feelings=feelings,
        # The presence switcher and the team queues beside the inbox's own queues.
        desk=routing.get_desk_status(db, org_id=agent.org_id, user_id=agent.user.id),
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request, db: DbSession, agent: Agent, view: str = "open", team: str = ""
) -> Response:
    return _inbox(request, db, agent, view, None, team)


@router.get("/inbox/{conversation_id}", response_class=HTMLResponse)
def inbox_conversation(
    request: Request,
    conversation_id: int,
    db: DbSession,
    agent: Agent,
    view: str = "open",
    team: str = "",
) -> Response:
    return _inbox(request, db, agent, view, conversation_id, team)


@router.post("/inbox/{conversation_id}/messages")
def write_message(
    conversation_id: int,
    db: DbSession,
    agent: AgentForm,
    body: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "reply",
    view: Annotated[str, Form()] = "open",
) -> Response:
    """The reply box: a reply to the customer, or (kind=note) an internal note."""
    if kind not in ("reply", "note"):
        raise InvalidInput("kind", "reply or note")
    if not body.strip():
        raise InvalidInput("body", "must not be blank")
    if kind == "note":
        service.add_note(
            db,
            org_id=agent.org_id,
            conversation_id=conversation_id,
            data=NoteIn(body=body),
            author_user_id=agent.user.id,
        )
    else:
        service.reply_to_conversation(
            db,
            org_id=agent.org_id,
            conversation_id=conversation_id,
            data=ReplyIn(body=body),
            author_user_id=agent.user.id,
        )
    return _back(conversation_id, view)


@router.post("/inbox/{conversation_id}/assign")
def assign_to_me(
    conversation_id: int,
    db: DbSession,
    agent: AgentForm,
    view: Annotated[str, Form()] = "open",
) -> Response:
    service.assign_conversation(
        db,
        org_id=agent.org_id,
        conversation_id=conversation_id,
        data=AssignIn(assignee_id=agent.user.id),
    )
    return _back(conversation_id, view)


@router.post("/inbox/{conversation_id}/status")
def change_status(
    conversation_id: int,
    db: DbSession,
    agent: AgentForm,
    status_: Annotated[str, Form(alias="status")],
    view: Annotated[str, Form()] = "open",
) -> Response:
    if status_ not in ConversationStatus.__members__:
        raise InvalidInput("status", f"one of {', '.join(ConversationStatus)}")
    service.update_conversation(
        db,
        org_id=agent.org_id,
        conversation_id=conversation_id,
        changes=ConversationPatch(status=ConversationStatus(status_)),
    )
    return _back(conversation_id, view)


@router.get("/inbox/{conversation_id}/macros/{macro_id}", response_class=PlainTextResponse)
def macro_text(conversation_id: int, macro_id: int, db: DbSession, agent: Agent) -> str:
    """The macro in the customer's language, placeholders filled, for the reply box."""
    return service.render_macro(
        db,
        org_id=agent.org_id,
        macro_id=macro_id,
        conversation_id=conversation_id,
        agent_id=agent.user.id,
    ).text


def _socket_agent(token: str | None) -> tuple[int, int] | None:
    """The organization and user of a signed-in agent's session cookie, else None."""
    if not token:
        return None
    with session_scope() as session:
        found = auth.get_web_session(session, token=token)
        if found is None or found[1].role not in DESK_ROLES:
            return None
        return found[1].org_id, found[1].id


def _record_inbox(org_id: int, user_id: int, *, opened: bool) -> None:
    with session_scope() as session:
        if opened:
            routing.record_inbox_opened(session, org_id=org_id, user_id=user_id)
        else:
            routing.record_inbox_closed(session, org_id=org_id, user_id=user_id)


def _settle_presence(org_id: int, user_id: int) -> None:
    with session_scope() as session:
        routing.settle_presence(session, org_id=org_id, user_id=user_id)


# Pending "away" checks; held here so the event loop does not drop them half-way.
_settling: set[asyncio.Task[None]] = set()


async def _away_unless_back(org_id: int, user_id: int) -> None:
    """After the agent's last inbox closed: away once `AWAY_AFTER` passes without one."""
    await asyncio.sleep(routing.AWAY_AFTER.total_seconds() + 1)
    if hub.count(routing.agent_topic(org_id, user_id)) == 0:
        await run_in_threadpool(_settle_presence, org_id, user_id)


def _same_origin(websocket: WebSocket) -> bool:
    # Browsers send cookies with cross-site WebSocket requests: refuse other sites' pages.
    origin = websocket.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == websocket.headers.get("host")


@router.websocket("/inbox/live")
async def inbox_live(websocket: WebSocket) -> None:
    found = await run_in_threadpool(_socket_agent, websocket.cookies.get(SESSION_COOKIE))
    if found is None or not _same_origin(websocket):
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "sign in as an agent")
        return
    org_id, user_id = found
    await websocket.accept()
    agent_topic = routing.agent_topic(org_id, user_id)
    with hub.subscription(service.inbox_topic(org_id), agent_topic) as subscription:
        await run_in_threadpool(_record_inbox, org_id, user_id, opened=True)
        _announce_presence(org_id)
        forwarder = asyncio.create_task(_forward(websocket, subscription.queue))
        try:
            while True:
                # The page pings to keep proxies from closing an idle socket.
                if await websocket.receive_text() == "ping":
                    await websocket.send_text("pong")
        except WebSocketDisconnect:
            pass
        finally:
            forwarder.cancel()
    _announce_presence(org_id)
    if hub.count(agent_topic) == 0:  # the agent's last open inbox (another tab may stay)
        await run_in_threadpool(_record_inbox, org_id, user_id, opened=False)
        task = asyncio.create_task(_away_unless_back(org_id, user_id))
        _settling.add(task)
        task.add_done_callback(_settling.discard)


async def _forward(websocket: WebSocket, queue: asyncio.Queue[dict[str, object]]) -> None:
    while True:
        await websocket.send_json(await queue.get())


def _announce_presence(org_id: int) -> None:
    online = service.count_agents_online(org_id)
    hub.publish(service.presence_topic(org_id), {"type": "presence", "agents_online": online > 0})


# --- SLA settings and attainment (managers and admins) --------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _manager(current: SignedIn) -> SignedIn:
    if current.user.role not in (Role.admin, Role.manager):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "SLAs are managed by managers and admins")
    return current


def require_manager(current: CurrentUser) -> SignedIn:
    return _manager(current)


def require_manager_form(current: CsrfChecked) -> SignedIn:
    return _manager(current)


Manager = Annotated[SignedIn, Depends(require_manager)]
ManagerForm = Annotated[SignedIn, Depends(require_manager_form)]


async def _form_fields(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]
Schema = TypeVar("Schema", bound=BaseModel)


def _parsed(model: type[Schema], data: dict[str, Any]) -> Schema:
    """A form as a schema; the first error is a 422 naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in error["loc"]) or "form", error["msg"]) from exc


@router.get("/settings/sla", response_class=HTMLResponse)
def sla_settings(
    request: Request, db: DbSession, manager: Manager, team: str | None = None
) -> Response:
    return render(
        request,
        "inbox/sla_settings.html",
        current=manager,
        team=team or None,
        hours=sla.list_business_hours(db, org_id=manager.org_id),
        policies=sla.list_effective_policies(db, org_id=manager.org_id, team=team or None),
        weekdays=WEEKDAYS,
    )


@router.post("/settings/sla/policies")
def save_sla_policy(db: DbSession, manager: ManagerForm, form: FormFields) -> Response:
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf_token" and v.strip()}
    data["business_hours"] = form.get("business_hours") == "on"
    policy = _parsed(SlaPolicyIn, data)
    sla.set_sla_policy(db, org_id=manager.org_id, data=policy)
    query = f"?team={quote(policy.team)}" if policy.team else ""
    return RedirectResponse(f"/settings/sla{query}", status_code=303)


@router.post("/settings/sla/policies/{policy_id}/delete")
def remove_sla_policy(policy_id: int, db: DbSession, manager: ManagerForm) -> Response:
    sla.delete_sla_policy(db, org_id=manager.org_id, policy_id=policy_id)
    return RedirectResponse("/settings/sla", status_code=303)


@router.post("/settings/sla/hours")
def save_business_hours(db: DbSession, manager: ManagerForm, form: FormFields) -> Response:
    periods = []
    for day in range(7):
        opens, closes = str(form.get(f"opens_{day}", "")), str(form.get(f"closes_{day}", ""))
        if bool(opens) != bool(closes):
            raise InvalidInput(f"closes_{day}", f"{WEEKDAYS[day]}: give both times, or neither")
        if opens:
            periods.append({"weekday": day, "opens": opens, "closes": closes})
    hours = _parsed(
        BusinessHoursIn,
        {
            "team": str(form.get("team", "")).strip() or None,
            "time_zone": str(form.get("time_zone", "")).strip(),
            "periods": periods,
            "holidays": str(form.get("holidays", "")).split(),
        },
    )
    sla.set_business_hours(db, org_id=manager.org_id, data=hours)
    return RedirectResponse("/settings/sla", status_code=303)


@router.post("/settings/sla/hours/delete")
def remove_business_hours(
    db: DbSession, manager: ManagerForm, team: Annotated[str, Form()] = ""
) -> Response:
    sla.delete_business_hours(db, org_id=manager.org_id, team=team or None)
    return RedirectResponse("/settings/sla", status_code=303)


@router.get("/sla/attainment", response_class=HTMLResponse)
def sla_attainment(
    request: Request, db: DbSession, manager: Manager, by: str = "channel", weeks: int = 8
) -> Response:
    """SLA attainment per week and channel, team or agent, for team leads."""
    if not 1 <= weeks <= 52:
        raise InvalidInput("weeks", "from 1 to 52")
    end = utcnow().date() + timedelta(days=1)
    rows = sla_metrics.compute_sla_attainment(
        org_id=manager.org_id, start=end - timedelta(weeks=weeks), end=end, by=by
    )
    return render(
        request,
        "inbox/sla_attainment.html",
        current=manager,
        by=by,
        weeks=weeks,
        rows=rows,
        agent_names={str(u.id): u.name for u in auth.list_users(db, org_id=manager.org_id)},
    )
