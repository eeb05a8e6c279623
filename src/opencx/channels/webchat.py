"""Web chat: visitor sessions, their signed tokens, messages in and replies out, the email offer.

A visitor is identified by a random id inside a token signed with the server secret and bound
to the organization; the widget keeps it in localStorage, so a reload continues the chat. The
customer behind a visitor is the one with the identity external/`webchat`/<visitor id>, created
with the first message. A visitor's message id (made by the widget) is the channel message id,
so a message sent again after a reconnect is stored once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.conversations import service as conversations
from opencx.conversations.models import ConversationChannel, MessageDirection
from opencx.conversations.schemas import (
    InboundMessageIn,
    InboundResult,
    MessageOut,
    NoteIn,
    OutboundDelivery,
)
from opencx.customers import service as customers
from opencx.customers.models import IdentityKind
from opencx.customers.schemas import CustomerIn, IdentityIn
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.settings import get_settings
from opencx.text_safety import is_unsafe

IDENTITY_NAMESPACE = "webchat"
UNVERIFIED_EMAIL = "webchat_unverified_email"
MAX_BODY_CHARS = 4000
MAX_FRAME_BYTES = 64 * 1024  # a frame beyond this closes the socket (1009)
MESSAGES_PER_MINUTE = 20
HISTORY_LIMIT = 100
_TOKEN_VERSION = "v1"


class ChatMessageIn(BaseModel):
    """A visitor's message as the widget sends it."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)

    @field_validator("body")
    @classmethod
    def _text(cls, body: str) -> str:
        if not body.strip():
            raise PydanticCustomError("blank", "must not be blank")
        if is_unsafe(body):
            raise PydanticCustomError("unsafe", "must not contain NUL characters")
        return body


class VisitorEmailIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(min_length=3, max_length=320)


class VisitorSession(BaseModel):
    """A visitor's chat as the widget resumes it."""

    org_id: int
    visitor_id: str
    token: str
    resumed: bool = Field(description="the token was valid: the earlier conversation continues")
    customer_id: int | None
    messages: list[dict[str, Any]]
    agents_online: bool


def _signature(org_id: int, visitor_id: str) -> str:
    key = get_settings().resolved_secret_key().encode()
    payload = f"webchat:{org_id}:{visitor_id}".encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def visitor_token(org_id: int, visitor_id: str) -> str:
    """The token the widget keeps: the visitor id, signed for this organization."""
    return f"{_TOKEN_VERSION}.{visitor_id}.{_signature(org_id, visitor_id)}"


def read_visitor_token(org_id: int, token: str | None) -> str | None:
    """The visitor id of a token signed for this organization; None when forged or foreign."""
    if not token or len(token) > 200:
        return None
    version, _, rest = token.partition(".")
    visitor_id, _, signature = rest.partition(".")
    if version != _TOKEN_VERSION or not visitor_id or not signature:
        return None
    if not hmac.compare_digest(signature, _signature(org_id, visitor_id)):
        return None
    return visitor_id


def widget_message(message: MessageOut | dict[str, Any]) -> dict[str, Any]:
    """A message as the widget shows it: no agent ids, no addresses, no notes."""
    data = message.model_dump(mode="json") if isinstance(message, MessageOut) else message
    channel_id = data.get("channel_message_id") or ""
    inbound = data["direction"] == MessageDirection.inbound.value
    return {
        "id": data["id"],
        "client_id": channel_id.partition(":")[2] if inbound else None,
        "direction": data["direction"],
        "body": data["body"],
        "sent_at": data["sent_at"],
    }


def _visitor_identity(visitor_id: str) -> IdentityIn:
    return IdentityIn(kind=IdentityKind.external, namespace=IDENTITY_NAMESPACE, value=visitor_id)


def _visitor_customer(session: Session, *, org_id: int, visitor_id: str) -> int | None:
    return customers.find_customer_id(
        session,
        org_id=org_id,
        kind=IdentityKind.external,
        value=visitor_id,
        namespace=IDENTITY_NAMESPACE,
    )


def _org_id(session: Session, org_slug: str) -> int:
    org_id = auth.find_organization_id(session, slug=org_slug)
    if org_id is None:
        raise NotFound("organization", org_slug)
    return org_id


def start_visitor_session(session: Session, *, org_slug: str, token: str | None) -> VisitorSession:
    """Resume the visitor of a valid token with their messages, or start a new visitor."""
    org_id = _org_id(session, org_slug)
    visitor_id = read_visitor_token(org_id, token)
    resumed = visitor_id is not None
    if visitor_id is None:
        visitor_id = secrets.token_urlsafe(18)
    customer_id = _visitor_customer(session, org_id=org_id, visitor_id=visitor_id)
    history = (
        conversations.list_customer_messages(
            session,
            org_id=org_id,
            customer_id=customer_id,
            channel=ConversationChannel.chat,
            limit=HISTORY_LIMIT,
        )
        if customer_id is not None
        else []
    )
    return VisitorSession(
        org_id=org_id,
        visitor_id=visitor_id,
        token=visitor_token(org_id, visitor_id),
        resumed=resumed,
        customer_id=customer_id,
        messages=[widget_message(m) for m in history],
        agents_online=conversations.count_agents_online(org_id) > 0,
    )


def _invalid(exc: ValidationError) -> InvalidInput:
    error = exc.errors()[0]
    return InvalidInput(".".join(str(p) for p in error["loc"]) or "message", error["msg"])


def record_visitor_message(
    session: Session,
    *,
    org_id: int,
    visitor_id: str,
    raw: dict[str, Any],
    received_at: datetime | None = None,
) -> InboundResult:
    """Store a visitor's message in their chat conversation; a resent message is stored once."""
    try:
        data = ChatMessageIn.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return conversations.record_inbound_message(
        session,
        org_id=org_id,
        data=InboundMessageIn(
            channel=ConversationChannel.chat,
            # Scoped by visitor: one visitor's ids never collide with another's.
            channel_message_id=f"{visitor_id}:{data.id}",
            sender=_visitor_identity(visitor_id),
            body=data.body,
            received_at=received_at or utcnow(),
        ),
    )


def record_visitor_email(
    session: Session, *, org_id: int, visitor_id: str, raw: dict[str, Any]
) -> str:
    """Keep the address a visitor left so the desk can answer by email; returns it normalized.

    It becomes an identity of the visitor's customer. When it already belongs to another
    customer the profiles are not merged (nobody proved owning the address): a note on the
    visitor's conversation tells the agent instead.
    """
    try:
        data = VisitorEmailIn.model_validate(raw)
        identity = IdentityIn(kind=IdentityKind.email, value=data.email)
    except ValidationError as exc:
        raise InvalidInput("email", exc.errors()[0]["msg"]) from exc
    visitor = _visitor_identity(visitor_id)
    customer_id = _visitor_customer(session, org_id=org_id, visitor_id=visitor_id)
    owner = customers.find_customer_id(
        session, org_id=org_id, kind=IdentityKind.email, value=identity.value
    )
    if owner is None or owner == customer_id:
        customers.upsert_customer(
            session,
            org_id=org_id,
            data=CustomerIn(identities=[visitor, identity]),
            source=f"channel:{ConversationChannel.chat.value}",
        )
        return identity.value
    # Kept on the visitor's profile (shown on the customer 360 page) even before a first message.
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn(identities=[visitor], attributes={UNVERIFIED_EMAIL: identity.value}),
        source=f"channel:{ConversationChannel.chat.value}",
    )
    customer_id = customer.id
    page = conversations.list_conversations(
        session, org_id=org_id, customer_id=customer_id, channel=ConversationChannel.chat, limit=1
    )
    if page.items:
        conversations.add_note(
            session,
            org_id=org_id,
            conversation_id=page.items[0].id,
            data=NoteIn(
                body=f"The visitor left the email address {identity.value}, which belongs to "
                f"customer #{owner}; the profiles were not merged (the address is unverified)."
            ),
        )
    return identity.value


def send_chat_reply(session: Session, delivery: OutboundDelivery) -> str:
    """Accept an agent's chat reply: it reaches the visitor's socket once it is stored."""
    return f"agent:{secrets.token_urlsafe(12)}"


class VisitorRateLimit:
    """At most `per_minute` messages per visitor in any 60 seconds, in this process."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}

    def allow(self, visitor_id: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._sent) > 10_000:  # forget visitors quiet for a minute
                quiet = [v for v, times in self._sent.items() if not times or now - times[-1] >= 60]
                for visitor in quiet:
                    del self._sent[visitor]
            sent = self._sent.setdefault(visitor_id, deque())
            while sent and now - sent[0] >= 60:
                sent.popleft()
            if len(sent) >= self.per_minute:
                return False
            sent.append(now)
            return True
