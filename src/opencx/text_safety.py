"""Reject text no database can store (NUL characters, lone UTF-16 surrogates) at the door.

PostgreSQL text cannot hold U+0000 and UTF-8 cannot encode a lone surrogate, so such input would
fail deep inside a transaction as a 500. This ASGI middleware answers 422 naming the field
instead, for JSON and form bodies, query strings and paths, before any handler runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REASON = "text must not contain NUL characters or unpaired UTF-16 surrogates"


def is_unsafe(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unsafe_paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if is_unsafe(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if is_unsafe(key):
                yield (*path, key)
            yield from _unsafe_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unsafe_paths(item, (*path, index))


def _first_unsafe_in_body(body: bytes, content_type: str) -> tuple[str | int, ...] | None:
    if "application/json" in content_type:
        # Fast path: both problems can only arrive in JSON as \u escapes.
        lowered = body.lower()
        if b"\\u0000" not in lowered and b"\\ud" not in lowered:
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # malformed JSON: the handler reports that itself
        return next(_unsafe_paths(parsed, ("body",)), None)
    if "application/x-www-form-urlencoded" in content_type:
        text = body.decode("latin-1")
        if "%00" not in text and "%ED" not in text.upper():
            return None
        for key, value in parse_qsl(text, keep_blank_values=True, errors="surrogateescape"):
            if is_unsafe(key) or is_unsafe(value):
                return ("body", key)
    return None


class RejectUnsafeText:
    """ASGI middleware: 422 for requests carrying text the stores cannot keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = unquote(scope.get("path", ""), errors="surrogateescape")
        if is_unsafe(path):
            await _reject(send, ("path",))
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for key, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
            if is_unsafe(key) or is_unsafe(value):
                await _reject(send, ("query", key))
                return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        where = _first_unsafe_in_body(body, content_type)
        if where is not None:
            await _reject(send, where)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reject(send: Send, loc: tuple[str | int, ...]) -> None:
    payload = json.dumps({"detail": [{"loc": list(loc), "msg": REASON, "type": "value_error"}]})
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload.encode()})
