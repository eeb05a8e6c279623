"""Pages of the channels: Settings -> Channels for admins; web chat for visitors (the widget
script, a demo page and the widget's WebSocket).

Frames are JSON. The widget opens with {"type": "hello", "token"}; the server answers
{"type": "welcome", "token", "resumed", "agents_online", "messages"}. Then the widget sends
{"type": "message", "id", "body"} (answered by "ack" or "error") and {"type": "email",
"email"}; the server pushes agents' replies ("message") and presence changes ("presence").
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from opencx.auth.deps import CsrfChecked, CurrentUser, DbSession, SignedIn
from opencx.auth.models import Role
from opencx.channels import service, webchat
from opencx.channels.schemas import CHANNEL_FIELDS, ChannelSettingsIn
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel
from opencx.db import session_scope
from opencx.errors import InvalidInput, NotFound
from opencx.live import hub
from opencx.settings import get_settings
from opencx.web.templating import WEB_DIR, render

router = APIRouter(tags=["pages"], include_in_schema=False)

WIDGET = WEB_DIR / "static" / "webchat" / "widget.js"
HELLO_SECONDS = 10
rate_limit = webchat.VisitorRateLimit()
CHANNEL_NAMES = {
    ConversationChannel.whatsapp: "WhatsApp",
    ConversationChannel.messenger: "Facebook Messenger",
    ConversationChannel.instagram: "Instagram",
    ConversationChannel.telegram: "Telegram",
    ConversationChannel.voice: "Voice (telephony webhook)",
}


def _channels_page(
    request: Request,
    db: DbSession,
    current: SignedIn,
    *,
    saved: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "channels/settings.html",
        status_code=status_code,
        current=current,
        channels=service.list_channel_settings(db, org_id=current.org_id),
        names=CHANNEL_NAMES,
        public_url=get_settings().resolved_public_url(),
        can_edit=current.user.role is Role.admin,
        saved=saved,
        error=error,
    )


@router.get("/settings/channels", response_class=HTMLResponse)
def channel_settings_page(
    request: Request, db: DbSession, current: CurrentUser, saved: str = ""
) -> Response:
    """Each channel's webhook URL, whether it receives and sends, and its settings (secrets masked)."""
    names = {channel.value: name for channel, name in CHANNEL_NAMES.items()}
    return _channels_page(request, db, current, saved=names.get(saved, ""))


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def form_values(channel: ConversationChannel, form: dict[str, str]) -> dict[str, str | None]:
    """The form as settings: an empty secret field keeps the secret unless "clear" is ticked."""
    values: dict[str, str | None] = {}
    for setting in CHANNEL_FIELDS[channel]:
        given = form.get(setting.name, "")
        if form.get(f"clear_{setting.name}"):
            values[setting.name] = None
        elif given.strip() or not setting.secret:
            values[setting.name] = given
    return values


@router.post("/settings/channels/{channel}", response_class=HTMLResponse)
def update_channel_settings_page(
    request: Request,
    channel: ConversationChannel,
    db: DbSession,
    current: CsrfChecked,
    form: Annotated[dict[str, str], Depends(_form)],
) -> Response:
    if current.user.role is not Role.admin:
        return render(
            request, "error.html", 403, current=current, message="Only admins change channels."
        )
    if channel not in CHANNEL_FIELDS:
        return render(request, "error.html", 404, current=current, message="No such channel.")
    try:
        data = ChannelSettingsIn(channel=channel, values=form_values(channel, form))
    except ValidationError as exc:
        return _channels_page(request, db, current, error=exc.errors()[0]["msg"], status_code=422)
    service.update_channel_settings(db, org_id=current.org_id, data=data)
    return RedirectResponse(
        f"/settings/channels?saved={channel.value}#{channel.value}", status_code=303
    )


@router.get("/chat/widget.js")
def widget_script() -> Response:
    """The embeddable widget: one script tag with data-org="<organization slug>"."""
    return FileResponse(
        WIDGET,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/chat/demo", response_class=HTMLResponse)
def widget_demo(request: Request, org: str = "", lang: str = "en") -> Response:
    """A shop page with the widget embedded, to try it (?org=<slug>&lang=en|nl|pl)."""
    return render(
        request, "webchat/demo.html", org=org, lang=lang if lang in ("en", "nl", "pl") else "en"
    )


def _start(org_slug: str, token: str | None) -> webchat.VisitorSession:
    with session_scope() as session:
        return webchat.start_visitor_session(session, org_slug=org_slug, token=token)


def _record_message(org_id: int, visitor_id: str, frame: dict[str, Any]) -> dict[str, Any]:
    try:
        with session_scope() as session:
            result = webchat.record_visitor_message(
                session, org_id=org_id, visitor_id=visitor_id, raw=frame
            )
    except IntegrityError:
        # The same message arrived twice at once (a resend racing the first): the loser's
        # transaction is undone whole, and trying again finds the stored one.
        with session_scope() as session:
            result = webchat.record_visitor_message(
                session, org_id=org_id, visitor_id=visitor_id, raw=frame
            )
    return {
        "type": "ack",
        "id": frame.get("id"),
        "duplicate": result.duplicate,
        "message": webchat.widget_message(result.message),
    }


def _record_email(org_id: int, visitor_id: str, frame: dict[str, Any]) -> dict[str, Any]:
    with session_scope() as session:
        email = webchat.record_visitor_email(
            session, org_id=org_id, visitor_id=visitor_id, raw=frame
        )
        return {"type": "email_saved", "email": email}


async def _forward(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        item = await queue.get()
        if item.get("type") == "message":
            await websocket.send_json(
                {"type": "message", "message": webchat.widget_message(item["message"])}
            )
        elif item.get("type") == "presence":
            await websocket.send_json(item)


def _frame(text: str) -> dict[str, Any] | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


@router.websocket("/chat/ws/{org_slug}")
async def visitor_socket(websocket: WebSocket, org_slug: str) -> None:
    await websocket.accept()
    try:
        hello = _frame(await asyncio.wait_for(websocket.receive_text(), HELLO_SECONDS))
        if hello is None or hello.get("type") != "hello":
            await websocket.close(status.WS_1008_POLICY_VIOLATION, "expected a hello frame")
            return
        token = hello.get("token")
        visitor = await run_in_threadpool(
            _start, org_slug, token if isinstance(token, str) else None
        )
    except NotFound:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, "unknown organization")
        return
    except (TimeoutError, WebSocketDisconnect):
        return
    await websocket.send_json({"type": "welcome", **visitor.model_dump(exclude={"org_id"})})
    topics = (
        conversations.chat_topic(visitor.org_id, visitor.visitor_id),
        conversations.presence_topic(visitor.org_id),
    )
    with hub.subscription(*topics) as subscription:
        forwarder = asyncio.create_task(_forward(websocket, subscription.queue))
        try:
            await _serve_visitor(websocket, visitor)
        except WebSocketDisconnect:
            pass
        finally:
            forwarder.cancel()


async def _serve_visitor(websocket: WebSocket, visitor: webchat.VisitorSession) -> None:
    while True:
        text = await websocket.receive_text()
        if len(text.encode()) > webchat.MAX_FRAME_BYTES:
            await websocket.close(status.WS_1009_MESSAGE_TOO_BIG, "frame larger than 64 KiB")
            return
        frame = _frame(text)
        kind = frame.get("type") if frame else None
        if frame is None or kind not in ("message", "email", "ping"):
            await websocket.send_json(
                {"type": "error", "field": "type", "reason": "expected message, email or ping"}
            )
            continue
        if kind == "ping":
            await websocket.send_json({"type": "pong"})
            continue
        if kind == "message" and not rate_limit.allow(visitor.visitor_id):
            await websocket.send_json(
                {
                    "type": "error",
                    "id": frame.get("id"),
                    "field": "body",
                    "reason": f"at most {rate_limit.per_minute} messages a minute; "
                    "this one was not stored, send it again in a moment",
                }
            )
            continue
        handler = _record_message if kind == "message" else _record_email
        try:
            answer = await run_in_threadpool(handler, visitor.org_id, visitor.visitor_id, frame)
        except InvalidInput as exc:
            answer = {
                "type": "error",
                "id": frame.get("id"),
                "field": exc.field,
                "reason": exc.reason,
            }
        await websocket.send_json(answer)
