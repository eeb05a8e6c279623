"""Web chat for visitors: the widget script, a demo page and the widget's WebSocket.

Frames are JSON. The widget opens with {"type": "hello", "token"}; the server answers
{"type": "welcome", "token", "resumed", "agents_online", "messages"}. Then the widget sends
{"type": "message", "id", "body"} (answered by "ack" or "error") and {"type": "email",
"email"}; the server pushes agents' replies ("message") and presence changes ("presence").
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from opencx.channels import webchat
from opencx.conversations import service as conversations
from opencx.db import session_scope
from opencx.errors import InvalidInput, NotFound
from opencx.live import hub
from opencx.web.templating import WEB_DIR, render

router = APIRouter(tags=["pages"], include_in_schema=False)

WIDGET = WEB_DIR / "static" / "webchat" / "widget.js"
HELLO_SECONDS = 10
rate_limit = webchat.VisitorRateLimit()


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
