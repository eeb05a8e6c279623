"""Use cases of the service desk: inbound messages, replies, notes, assignment, status, merges, macros.

Every conversation belongs to a customer found (or created) by the identity the channel gave.
Channels plug in twice: adapters normalize what arrives to `InboundMessageIn` and call
`record_inbound_message`; an adapter that can send registers an outbound sender, which
`reply_to_conversation` calls (a reply is kept even when its channel cannot take it).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.auth.models import User
from opencx.conversations import sla
from opencx.conversations.models import (
    AuthorKind,
    Conversation,
    ConversationChannel,
    ConversationStatus,
    Macro,
    Message,
    MessageAttachment,
    MessageDirection,
)
from opencx.conversations.routing import service as routing
from opencx.conversations.schemas import (
    PLACEHOLDER,
    AssignIn,
    AttachmentIn,
    AttachmentOut,
    ConversationChange,
    ConversationDetail,
    ConversationImport,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    InboundAttachment,
    InboundMessageIn,
    InboundResult,
    InboxPage,
    InboxRow,
    InboxView,
    MacroIn,
    MacroOut,
    MessageOut,
    NoteIn,
    OutboundDelivery,
    RenderedMacro,
    ReplyIn,
    macro_language,
)
from opencx.customers import gdpr, timeline
from opencx.customers import service as customers
from opencx.customers.models import ConsentChannel, IdentityKind
from opencx.customers.schemas import CustomerIn
from opencx.customers.timeline import TimelineEntry
from opencx.db import utcnow
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.journeys import service as journeys
from opencx.live import hub, publish_after_commit
from opencx.settings import get_settings
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InteractionIn, TriggerReport
from opencx.text import UNKNOWN, detect_language

# Channels where a message carries no thread of its own: it continues the customer's
# conversation on that channel. Email threads by its headers; a web form is a new matter.
_CONTINUOUS_CHANNELS = frozenset(ConversationChannel) - {
    ConversationChannel.email,
    ConversationChannel.web_form,
}
# Where a survey after a resolved conversation would reach the customer.
_SURVEY_CHANNEL = {
    ConversationChannel.email: ConsentChannel.email,
    ConversationChannel.web_form: ConsentChannel.email,
    ConversationChannel.chat: ConsentChannel.chat,
    ConversationChannel.whatsapp: ConsentChannel.whatsapp,
    ConversationChannel.messenger: ConsentChannel.social,
    ConversationChannel.instagram: ConsentChannel.social,
    ConversationChannel.telegram: ConsentChannel.social,
    ConversationChannel.voice: ConsentChannel.phone,
}
_CUSTOMER_LANGUAGES = ("en", "nl", "pl")
_SUBJECT_FROM_BODY = 80


class DeliveryFailed(Exception):
    """A channel adapter could not hand the reply to its channel; the reason is kept."""


OutboundSender = Callable[[Session, OutboundDelivery], str]
_senders: dict[ConversationChannel, OutboundSender] = {}


def register_outbound_sender(channel: ConversationChannel, sender: OutboundSender) -> None:
    """Let a channel adapter send replies; `sender(session, delivery)` returns the channel's id
    of the sent message (the session reads the organization's channel settings)."""
    _senders[channel] = sender


# --- live updates ---------------------------------------------------------------------------


def inbox_topic(org_id: int) -> str:
    """Live topic of the organization's inbox: every change of a conversation or its messages."""
    return f"inbox:{org_id}"


def chat_topic(org_id: int, address: str) -> str:
    """Live topic of one web chat visitor: the replies they should see."""
    return f"chat:{org_id}:{address}"


def presence_topic(org_id: int) -> str:
    """Live topic telling web chat visitors whether an agent is online."""
    return f"presence:{org_id}"


def count_agents_online(org_id: int) -> int:
    """Agents with the inbox open in this process (each open inbox holds a live socket)."""
    return hub.count(inbox_topic(org_id))


def _announce(session: Session, conversation: Conversation, change: str, **extra: Any) -> None:
    publish_after_commit(
        session,
        inbox_topic(conversation.org_id),
        {
            "type": change,
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "channel": conversation.channel.value,
            "status": conversation.status.value,
            **extra,
        },
    )


def announce_conversation(session: Session, conversation: Conversation) -> None:
    """Tell open inboxes, once committed, that the conversation changed (routing assigned it)."""
    _announce(session, conversation, "conversation")


# --- looking conversations up ---------------------------------------------------------------


def _get(session: Session, *, org_id: int, conversation_id: int) -> Conversation:
    conversation = session.scalar(
        select(Conversation).where(
            Conversation.org_id == org_id, Conversation.id == conversation_id
        )
    )
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    return conversation


def _writable(session: Session, *, org_id: int, conversation_id: int) -> Conversation:
    conversation = _get(session, org_id=org_id, conversation_id=conversation_id)
    if conversation.merged_into_id is not None:
        raise Conflict(
            f"conversation {conversation_id} was merged into {conversation.merged_into_id}"
        )
    return conversation


def _survivor(session: Session, *, org_id: int, conversation: Conversation) -> Conversation:
    seen = {conversation.id}
    while conversation.merged_into_id is not None and conversation.merged_into_id not in seen:
        conversation = _get(session, org_id=org_id, conversation_id=conversation.merged_into_id)
        seen.add(conversation.id)
    return conversation


def _user(session: Session, *, org_id: int, user_id: int) -> User:
    for user in auth.list_users(session, org_id=org_id):
        if user.id == user_id:
            return user
    raise NotFound("user", user_id)


def _attachments_by_message(
    session: Session, *, org_id: int, message_ids: Sequence[int]
) -> dict[int, list[AttachmentOut]]:
    found: dict[int, list[AttachmentOut]] = {}
    if not message_ids:
        return found
    rows = session.scalars(
        select(MessageAttachment)
        .where(MessageAttachment.org_id == org_id, MessageAttachment.message_id.in_(message_ids))
        .order_by(MessageAttachment.id)
    )
    for row in rows:
        found.setdefault(row.message_id, []).append(AttachmentOut.model_validate(row))
    return found


def _message_out(session: Session, message: Message) -> MessageOut:
    out = MessageOut.model_validate(message)
    out.attachments = _attachments_by_message(
        session, org_id=message.org_id, message_ids=[message.id]
    ).get(message.id, [])
    return out


def get_conversation(session: Session, *, org_id: int, conversation_id: int) -> ConversationOut:
    """One conversation without its messages."""
    return ConversationOut.model_validate(
        _get(session, org_id=org_id, conversation_id=conversation_id)
    )


def get_conversation_detail(
    session: Session, *, org_id: int, conversation_id: int
) -> ConversationDetail:
    """One conversation with every message (notes included) and attachment, oldest first."""
    conversation = _get(session, org_id=org_id, conversation_id=conversation_id)
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.org_id == org_id, Message.conversation_id == conversation.id)
            .order_by(Message.sent_at, Message.id)
        )
    )
    attachments = _attachments_by_message(
        session, org_id=org_id, message_ids=[m.id for m in messages]
    )
    detail = ConversationDetail.model_validate(conversation)
    detail.messages = [
        MessageOut.model_validate(m).model_copy(update={"attachments": attachments.get(m.id, [])})
        for m in messages
    ]
    return detail


def list_conversations(
    session: Session,
    *,
    org_id: int,
    status: ConversationStatus | None = None,
    assignee_id: int | None = None,
    team: str | None = None,
    channel: ConversationChannel | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ConversationPage:
    """A page of conversations, the most recent message first, and the total; merged ones left out."""
    if limit < 1:
        raise InvalidInput("limit", "must be at least 1")
    if offset < 0:
        raise InvalidInput("offset", "must not be negative")
    conditions: list[ColumnElement[bool]] = [
        Conversation.org_id == org_id,
        Conversation.merged_into_id.is_(None),
    ]
    if status is not None:
        conditions.append(Conversation.status == status)
    if assignee_id is not None:
        conditions.append(Conversation.assignee_id == assignee_id)
    if team is not None:
        conditions.append(Conversation.team == team)
    if channel is not None:
        conditions.append(Conversation.channel == channel)
    if customer_id is not None:
        family = customers.customer_id_family(session, org_id=org_id, customer_id=customer_id)
        conditions.append(Conversation.customer_id.in_(family))
    total = session.scalar(select(func.count()).select_from(Conversation).where(*conditions)) or 0
    rows = session.scalars(
        select(Conversation)
        .where(*conditions)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return ConversationPage(total=total, items=[ConversationOut.model_validate(c) for c in rows])


# --- inbound messages -----------------------------------------------------------------------


def _customer_for(session: Session, *, org_id: int, data: InboundMessageIn) -> tuple[int, bool]:
    sender = data.sender
    found = customers.find_customer_id(
        session, org_id=org_id, kind=sender.kind, value=sender.value, namespace=sender.namespace
    )
    if found is not None:
        return found, False
    first_name, _, last_name = (data.sender_name or "").strip().partition(" ")
    # A first message is often the only hint of the language the customer wants answers in.
    detected = detect_language(f"{data.subject}\n{data.body}", _CUSTOMER_LANGUAGES).language
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn(
            first_name=first_name[:200] or None,
            last_name=last_name.strip()[:200] or None,
            language=None if detected == UNKNOWN else detected,
            identities=[sender],
        ),
        source=f"channel:{data.channel.value}",
    )
    return customer.id, True


def _thread_conversation(
    session: Session, *, org_id: int, data: InboundMessageIn, customer_id: int
) -> Conversation | None:
    conversation: Conversation | None = None
    if data.thread_refs:
        conversation_id = session.scalar(
            select(Message.conversation_id)
            .where(
                Message.org_id == org_id,
                Message.channel == data.channel,
                Message.channel_message_id.in_(data.thread_refs),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if conversation_id is not None:
            conversation = _get(session, org_id=org_id, conversation_id=conversation_id)
    elif data.channel in _CONTINUOUS_CHANNELS:
        conversation = session.scalar(
            select(Conversation)
            .where(
                Conversation.org_id == org_id,
                Conversation.customer_id == customer_id,
                Conversation.channel == data.channel,
                Conversation.status != ConversationStatus.closed,
                Conversation.merged_into_id.is_(None),
            )
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(1)
        )
    if conversation is not None:
        conversation = _survivor(session, org_id=org_id, conversation=conversation)
    return conversation


def _attachment_path(org_id: int, digest: str) -> Path:
    return Path("attachments") / str(org_id) / digest[:2] / digest


def _store_attachment(
    session: Session, *, org_id: int, message_id: int, attachment: InboundAttachment
) -> None:
    digest = hashlib.sha256(attachment.content).hexdigest()
    relative = _attachment_path(org_id, digest)
    target = get_settings().data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write aside and rename, so a crash never leaves a half file under the final name.
        partial = target.with_name(f"{digest}.{os.getpid()}.partial")
        partial.write_bytes(attachment.content)
        partial.replace(target)
    session.add(
        MessageAttachment(
            org_id=org_id,
            message_id=message_id,
            filename=Path(attachment.filename.replace("\\", "/")).name[:255] or "attachment",
            content_type=attachment.content_type[:200],
            size=len(attachment.content),
            sha256=digest,
            path=relative.as_posix(),
        )
    )


def _inbound_attachments(
    items: Sequence[AttachmentIn | InboundAttachment],
) -> list[InboundAttachment]:
    return [
        item
        if isinstance(item, InboundAttachment)
        else InboundAttachment(item.filename, item.content_type, item.content)
        for item in items
    ]


def _redelivered(session: Session, *, org_id: int, data: InboundMessageIn) -> InboundResult | None:
    """The answer for a message whose channel id was stored before, or None for a new one."""
    if data.channel_message_id is None:
        return None
    existing = session.scalar(
        select(Message).where(
            Message.org_id == org_id,
            Message.channel == data.channel,
            Message.channel_message_id == data.channel_message_id,
        )
    )
    if existing is None:
        return None
    conversation = _get(session, org_id=org_id, conversation_id=existing.conversation_id)
    return InboundResult(
        conversation=ConversationOut.model_validate(conversation),
        message=_message_out(session, existing),
        customer_created=False,
        conversation_created=False,
        reopened=False,
        duplicate=True,
    )


def _new_conversation(
    session: Session, *, org_id: int, data: InboundMessageIn, customer_id: int
) -> Conversation:
    conversation = Conversation(
        org_id=org_id,
        customer_id=customer_id,
        channel=data.channel,
        subject=data.subject or " ".join(data.body.split())[:_SUBJECT_FROM_BODY],
        touchpoint_id=data.touchpoint_id,
        tags=[],
        last_message_at=data.received_at,
    )
    session.add(conversation)
    session.flush()
    return conversation


def record_inbound_message(
    session: Session,
    *,
    org_id: int,
    data: InboundMessageIn,
    attachments: Sequence[InboundAttachment] = (),
) -> InboundResult:
    """Store a customer's message in its conversation (threaded, reopened or new).

    A message whose channel id was stored before is a redelivery: nothing changes and the
    answer says `duplicate`. Files come in `data.attachments` (API) or `attachments` (adapters).
    """
    if data.touchpoint_id is not None:
        journeys.get_touchpoint(session, org_id=org_id, touchpoint_id=data.touchpoint_id)
    redelivered = _redelivered(session, org_id=org_id, data=data)
    if redelivered is not None:
        return redelivered
    customer_id, customer_created = _customer_for(session, org_id=org_id, data=data)
    threaded = _thread_conversation(session, org_id=org_id, data=data, customer_id=customer_id)
    created = reopened = resumed = False
    if threaded is None or threaded.status is ConversationStatus.closed:
        conversation = _new_conversation(session, org_id=org_id, data=data, customer_id=customer_id)
        created = True
    else:
        conversation = threaded
        if conversation.status is ConversationStatus.resolved:
            conversation.status = ConversationStatus.open
            conversation.resolved_at = None
            conversation.reopened_count += 1
            reopened = True
        elif conversation.status is ConversationStatus.pending:
            conversation.status = ConversationStatus.open
            resumed = True
    conversation.last_message_at = max(conversation.last_message_at, data.received_at)
    message = Message(
        org_id=org_id,
        conversation_id=conversation.id,
        channel=data.channel,
        direction=MessageDirection.inbound,
        author_kind=AuthorKind.customer,
        address=data.sender.value,
        body=data.body,
        body_html=data.body_html,
        channel_message_id=data.channel_message_id,
        thread_refs=list(data.thread_refs),
        sent_at=data.received_at,
    )
    session.add(message)
    session.flush()
    for attachment in [*_inbound_attachments(data.attachments), *attachments]:
        _store_attachment(session, org_id=org_id, message_id=message.id, attachment=attachment)
    session.flush()
    if created or reopened:
        # Last, so the organization's routing lock is held for as short a time as possible.
        routing.route_conversation(
            session, org_id=org_id, conversation=conversation, text=data.body
        )
    if created or reopened or resumed:
        # After routing: the team it chose may have its own policy and hours.
        sla.sync_conversation_sla(session, conversation=conversation, at=data.received_at)
    _announce(
        session,
        conversation,
        "message",
        message_id=message.id,
        direction=MessageDirection.inbound.value,
        sent_at=message.sent_at.isoformat(),
    )
    return InboundResult(
        conversation=ConversationOut.model_validate(conversation),
        message=_message_out(session, message),
        customer_created=customer_created,
        conversation_created=created,
        reopened=reopened,
        duplicate=False,
    )


def record_channel_message(
    session: Session,
    *,
    org_id: int,
    data: InboundMessageIn,
    direction: MessageDirection,
    author_kind: AuthorKind,
    author_user_id: int | None = None,
) -> InboundResult:
    """Store what a channel reports that the customer did not write: an agent's words on a call,
    a call the desk made, a note about a call. Nothing is sent.

    `data.sender` names the customer (found or created), `thread_refs` the conversation; as
    for inbound messages a channel id is stored once. It never reopens a conversation; an
    agent's or bot's outbound message counts as the first response when none was given yet.
    """
    if direction is MessageDirection.inbound:
        return record_inbound_message(session, org_id=org_id, data=data)
    redelivered = _redelivered(session, org_id=org_id, data=data)
    if redelivered is not None:
        return redelivered
    customer_id, customer_created = _customer_for(session, org_id=org_id, data=data)
    threaded = _thread_conversation(session, org_id=org_id, data=data, customer_id=customer_id)
    created = threaded is None or threaded.status is ConversationStatus.closed
    if threaded is None or created:
        conversation = _new_conversation(session, org_id=org_id, data=data, customer_id=customer_id)
    else:
        conversation = threaded
    message = Message(
        org_id=org_id,
        conversation_id=conversation.id,
        channel=data.channel,
        direction=direction,
        author_kind=author_kind,
        author_user_id=author_user_id,
        address=data.sender.value if direction is MessageDirection.outbound else None,
        body=data.body,
        channel_message_id=data.channel_message_id,
        thread_refs=list(data.thread_refs),
        sent_at=data.received_at,
    )
    session.add(message)
    if direction is MessageDirection.outbound:
        if conversation.first_response_at is None and author_kind is not AuthorKind.system:
            conversation.first_response_at = data.received_at
        conversation.last_message_at = max(conversation.last_message_at, data.received_at)
    session.flush()
    _announce(
        session,
        conversation,
        "message",
        message_id=message.id,
        direction=direction.value,
        sent_at=message.sent_at.isoformat(),
    )
    return InboundResult(
        conversation=ConversationOut.model_validate(conversation),
        message=_message_out(session, message),
        customer_created=customer_created,
        conversation_created=created,
        reopened=False,
        duplicate=False,
    )


def get_attachment_file(
    session: Session, *, org_id: int, conversation_id: int, attachment_id: int
) -> tuple[Path, AttachmentOut]:
    """Where an attachment of this conversation lies on disk, and its metadata."""
    attachment = session.scalar(
        select(MessageAttachment)
        .join(Message, Message.id == MessageAttachment.message_id)
        .where(
            MessageAttachment.org_id == org_id,
            MessageAttachment.id == attachment_id,
            Message.org_id == org_id,
            Message.conversation_id == conversation_id,
        )
    )
    if attachment is None:
        raise NotFound("attachment", attachment_id)
    path = get_settings().data_dir / attachment.path
    if not path.is_file():
        raise NotFound("attachment file", attachment_id)
    return path, AttachmentOut.model_validate(attachment)


# --- agents' actions ------------------------------------------------------------------------


def _reply_address(session: Session, *, org_id: int, conversation: Conversation) -> str | None:
    address = session.scalar(
        select(Message.address)
        .where(
            Message.org_id == org_id,
            Message.conversation_id == conversation.id,
            Message.direction == MessageDirection.inbound,
            Message.address.is_not(None),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )
    if address:
        return address
    if conversation.channel in (ConversationChannel.email, ConversationChannel.web_form):
        for identity in customers.list_identities(
            session, org_id=org_id, customer_id=conversation.customer_id
        ):
            if identity.kind is IdentityKind.email:
                return identity.value
    return None


def _last_inbound(session: Session, *, org_id: int, conversation_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.org_id == org_id,
            Message.conversation_id == conversation_id,
            Message.direction == MessageDirection.inbound,
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )


def _reply_subject(subject: str) -> str:
    if not subject:
        return ""
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"[:300]


def reply_to_conversation(
    session: Session,
    *,
    org_id: int,
    conversation_id: int,
    data: ReplyIn,
    author_user_id: int | None = None,
    now: datetime | None = None,
) -> MessageOut:
    """Send an agent's reply on the conversation's channel and keep it, sent or not.

    The first reply sets the first response time. When the channel cannot take it (no adapter,
    not configured, refused) the message is kept with `delivery_error`.
    """
    now = now or utcnow()
    conversation = _writable(session, org_id=org_id, conversation_id=conversation_id)
    author = data.author_user_id or author_user_id
    if author is not None:
        _user(session, org_id=org_id, user_id=author)
    address = _reply_address(session, org_id=org_id, conversation=conversation)
    last_inbound = _last_inbound(session, org_id=org_id, conversation_id=conversation.id)
    in_reply_to = last_inbound.channel_message_id if last_inbound is not None else None
    references = [
        *(last_inbound.thread_refs if last_inbound is not None else []),
        *([in_reply_to] if in_reply_to else []),
    ]
    message = Message(
        org_id=org_id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        direction=MessageDirection.outbound,
        author_kind=AuthorKind.agent,
        author_user_id=author,
        address=address,
        body=data.body,
        body_html=data.body_html,
        thread_refs=references,
        sent_at=now,
    )
    sender = _senders.get(conversation.channel)
    if sender is None:
        message.delivery_error = f"no adapter sends on channel {conversation.channel.value} yet"
    elif address is None:
        message.delivery_error = "the customer has no address on this channel"
    else:
        try:
            message.channel_message_id = sender(
                session,
                OutboundDelivery(
                    org_id=org_id,
                    conversation_id=conversation.id,
                    channel=conversation.channel,
                    to=address,
                    subject=_reply_subject(conversation.subject),
                    body=data.body,
                    body_html=data.body_html,
                    in_reply_to=in_reply_to,
                    references=references,
                ),
            )
        except DeliveryFailed as exc:
            message.delivery_error = str(exc)[:500]
    session.add(message)
    first_response = conversation.first_response_at is None
    if first_response:
        conversation.first_response_at = now
    conversation.last_message_at = max(conversation.last_message_at, now)
    session.flush()
    if first_response:
        sla.sync_conversation_sla(session, conversation=conversation, at=now)
    out = _message_out(session, message)
    _announce(session, conversation, "message", message_id=message.id, direction="outbound")
    if conversation.channel is ConversationChannel.chat and address and not message.delivery_error:
        # The visitor's socket shows it once it is stored; a closed widget loads it on reconnect.
        publish_after_commit(
            session,
            chat_topic(org_id, address),
            {"type": "message", "message": out.model_dump(mode="json")},
        )
    return out


def add_note(
    session: Session,
    *,
    org_id: int,
    conversation_id: int,
    data: NoteIn,
    author_user_id: int | None = None,
    now: datetime | None = None,
) -> MessageOut:
    """An internal note on the conversation; never sent to the customer."""
    conversation = _writable(session, org_id=org_id, conversation_id=conversation_id)
    author = data.author_user_id or author_user_id
    if author is not None:
        _user(session, org_id=org_id, user_id=author)
    message = Message(
        org_id=org_id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        direction=MessageDirection.note,
        author_kind=AuthorKind.agent,
        author_user_id=author,
        body=data.body,
        thread_refs=[],
        sent_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    _announce(session, conversation, "message", message_id=message.id, direction="note")
    return _message_out(session, message)


def assign_conversation(
    session: Session, *, org_id: int, conversation_id: int, data: AssignIn
) -> ConversationOut:
    """Set the agent and/or team (fields left out stay; null clears); agents are active users."""
    conversation = _writable(session, org_id=org_id, conversation_id=conversation_id)
    if data.assignee_id is not None:
        user = _user(session, org_id=org_id, user_id=data.assignee_id)
        if not user.is_active:
            raise InvalidInput("assignee_id", f"user {user.id} is not active")
    previous = conversation.assignee_id
    if "assignee_id" in data.model_fields_set:
        conversation.assignee_id = data.assignee_id
    if "team" in data.model_fields_set and conversation.team != data.team:
        conversation.team = data.team
        # Another team may have its own policy and hours: the clocks follow.
        sla.sync_conversation_sla(session, conversation=conversation, at=utcnow())
    session.flush()
    _announce(session, conversation, "conversation")
    if previous != conversation.assignee_id:
        # The previous agent has room again; an unassigned one goes back to its team's queue.
        routing.release_conversation(session, org_id=org_id, conversation=conversation)
    return ConversationOut.model_validate(conversation)


def _invite_after_resolution(
    session: Session, *, conversation: Conversation, now: datetime
) -> tuple[TriggerReport | None, str | None]:
    interaction = InteractionIn(
        trigger="conversation_resolved",
        customer_id=conversation.customer_id,
        channel=_SURVEY_CHANNEL[conversation.channel],
        touchpoint_id=conversation.touchpoint_id,
        conversation_id=conversation.id,
        agent_id=conversation.assignee_id,
        team=conversation.team,
    )
    # Feedback is a side effect: whatever the survey side says, the resolution stands.
    try:
        return (
            surveys.record_interaction(
                session, org_id=conversation.org_id, data=interaction, now=now
            ),
            None,
        )
    except (Conflict, InvalidInput, NotFound) as exc:
        return None, str(exc)


def update_conversation(
    session: Session,
    *,
    org_id: int,
    conversation_id: int,
    changes: ConversationPatch,
    now: datetime | None = None,
) -> ConversationChange:
    """Change status, priority or tags; resolving invites to surveys of trigger conversation_resolved."""
    now = now or utcnow()
    conversation = _writable(session, org_id=org_id, conversation_id=conversation_id)
    if changes.priority is not None:
        conversation.priority = changes.priority
    if changes.tags is not None:
        conversation.tags = changes.tags
    resolving = False
    if changes.status is not None and changes.status is not conversation.status:
        done = (ConversationStatus.resolved, ConversationStatus.closed)
        if changes.status in done and conversation.resolved_at is None:
            conversation.resolved_at = now
            resolving = True
        elif changes.status not in done and conversation.status in done:
            conversation.resolved_at = None
            conversation.reopened_count += 1
        conversation.status = changes.status
    session.flush()
    sla.sync_conversation_sla(session, conversation=conversation, at=now)
    _announce(session, conversation, "conversation")
    if resolving:
        routing.release_conversation(session, org_id=org_id, conversation=conversation, now=now)
    report, error = (
        _invite_after_resolution(session, conversation=conversation, now=now)
        if resolving
        else (None, None)
    )
    return ConversationChange(
        conversation=ConversationOut.model_validate(conversation),
        survey_triggers=report,
        survey_trigger_error=error,
    )


def merge_conversations(
    session: Session,
    *,
    org_id: int,
    survivor_id: int,
    merged_id: int,
    now: datetime | None = None,
) -> ConversationOut:
    """Fold a duplicate into `survivor_id`: messages move; the duplicate is closed with a link."""
    now = now or utcnow()
    if survivor_id == merged_id:
        raise InvalidInput("merged_id", "a conversation cannot be merged into itself")
    survivor = _writable(session, org_id=org_id, conversation_id=survivor_id)
    merged = _writable(session, org_id=org_id, conversation_id=merged_id)
    session.execute(
        update(Message)
        .where(Message.org_id == org_id, Message.conversation_id == merged.id)
        .values(conversation_id=survivor.id)
    )
    survivor.tags = [*survivor.tags, *(t for t in merged.tags if t not in survivor.tags)]
    survivor.last_message_at = max(survivor.last_message_at, merged.last_message_at)
    responses = [t for t in (survivor.first_response_at, merged.first_response_at) if t]
    survivor.first_response_at = min(responses) if responses else None
    merged.status = ConversationStatus.closed
    merged.merged_into_id = survivor.id
    for conversation, text in (
        (survivor, f"Conversation {merged.id} was merged into this one."),
        (merged, f"Merged into conversation {survivor.id}."),
    ):
        session.add(
            Message(
                org_id=org_id,
                conversation_id=conversation.id,
                channel=conversation.channel,
                direction=MessageDirection.note,
                author_kind=AuthorKind.system,
                body=text,
                thread_refs=[],
                sent_at=now,
            )
        )
    session.flush()
    for conversation in (survivor, merged):
        sla.sync_conversation_sla(session, conversation=conversation, at=now)
    _announce(session, survivor, "conversation")
    _announce(session, merged, "conversation")
    routing.release_conversation(session, org_id=org_id, conversation=merged, now=now)
    return ConversationOut.model_validate(survivor)


# --- macros ---------------------------------------------------------------------------------


def _get_macro(session: Session, *, org_id: int, macro_id: int) -> Macro:
    macro = session.scalar(select(Macro).where(Macro.org_id == org_id, Macro.id == macro_id))
    if macro is None:
        raise NotFound("macro", macro_id)
    return macro


def _check_macro_name(session: Session, *, org_id: int, name: str, macro_id: int | None) -> None:
    clash = session.scalar(
        select(Macro.id).where(
            Macro.org_id == org_id, Macro.name == name, Macro.id != (macro_id or 0)
        )
    )
    if clash is not None:
        raise InvalidInput("name", f"macro {clash} has this name already")


def create_macro(session: Session, *, org_id: int, data: MacroIn) -> MacroOut:
    """A new canned reply."""
    _check_macro_name(session, org_id=org_id, name=data.name, macro_id=None)
    macro = Macro(org_id=org_id, name=data.name, texts=data.texts)
    session.add(macro)
    session.flush()
    return MacroOut.model_validate(macro)


def list_macros(session: Session, *, org_id: int) -> list[MacroOut]:
    """The organization's macros by name."""
    rows = session.scalars(select(Macro).where(Macro.org_id == org_id).order_by(Macro.name))
    return [MacroOut.model_validate(m) for m in rows]


def get_macro(session: Session, *, org_id: int, macro_id: int) -> MacroOut:
    return MacroOut.model_validate(_get_macro(session, org_id=org_id, macro_id=macro_id))


def update_macro(session: Session, *, org_id: int, macro_id: int, data: MacroIn) -> MacroOut:
    """Replace a macro's name and texts."""
    macro = _get_macro(session, org_id=org_id, macro_id=macro_id)
    _check_macro_name(session, org_id=org_id, name=data.name, macro_id=macro.id)
    macro.name = data.name
    macro.texts = data.texts
    session.flush()
    return MacroOut.model_validate(macro)


def delete_macro(session: Session, *, org_id: int, macro_id: int) -> None:
    session.delete(_get_macro(session, org_id=org_id, macro_id=macro_id))
    session.flush()


def render_macro(
    session: Session,
    *,
    org_id: int,
    macro_id: int,
    conversation_id: int,
    agent_id: int | None = None,
) -> RenderedMacro:
    """The macro's text in the conversation's customer's language, placeholders filled in."""
    macro = _get_macro(session, org_id=org_id, macro_id=macro_id)
    conversation = _get(session, org_id=org_id, conversation_id=conversation_id)
    customer = customers.get_customer(session, org_id=org_id, customer_id=conversation.customer_id)
    agent = _user(session, org_id=org_id, user_id=agent_id) if agent_id is not None else None
    language = macro_language(customer.language)
    if not macro.texts.get(language, "").strip():
        language = "en"
    values = {
        "customer.first_name": customer.first_name or "",
        "customer.last_name": customer.last_name or "",
        "conversation.id": str(conversation.id),
        "conversation.subject": conversation.subject,
        "agent.name": agent.name if agent is not None else "",
    }
    text = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), macro.texts[language])
    return RenderedMacro(
        macro_id=macro.id, conversation_id=conversation.id, language=language, text=text
    )


# --- the agent inbox ------------------------------------------------------------------------

_WAITING_STATUSES = (ConversationStatus.open, ConversationStatus.pending)


def _view_condition(
    view: InboxView, *, org_id: int, user_id: int, now: datetime
) -> ColumnElement[bool]:
    if view is InboxView.breaching:
        return sla.breaching_condition(org_id=org_id, now=now)
    if view is InboxView.mine:
        return Conversation.assignee_id == user_id
    if view is InboxView.team:
        return (Conversation.assignee_id.is_not(None)) | (Conversation.team.is_not(None))
    if view is InboxView.unassigned:
        return Conversation.assignee_id.is_(None)
    return Conversation.id.is_not(None)


def _last_messages(
    session: Session, *, org_id: int, conversation_ids: list[int]
) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(
            Message.org_id == org_id,
            Message.conversation_id.in_(conversation_ids),
            Message.direction != MessageDirection.note,
        )
        .group_by(Message.conversation_id)
    )
    rows = session.scalars(select(Message).where(Message.org_id == org_id, Message.id.in_(latest)))
    return {m.conversation_id: m for m in rows}


def list_customer_messages(
    session: Session,
    *,
    org_id: int,
    customer_id: int,
    channel: ConversationChannel,
    limit: int = 100,
) -> list[MessageOut]:
    """The customer's latest messages on one channel, both ways, oldest first; notes left out."""
    family = customers.customer_id_family(session, org_id=org_id, customer_id=customer_id)
    rows = session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.org_id == org_id,
            Conversation.org_id == org_id,
            Conversation.customer_id.in_(family),
            Message.channel == channel,
            Message.direction != MessageDirection.note,
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return [MessageOut.model_validate(m) for m in reversed(list(rows))]


def get_inbox(
    session: Session,
    *,
    org_id: int,
    user_id: int,
    view: InboxView = InboxView.open,
    conversation_id: int | None = None,
    limit: int = 50,
    now: datetime | None = None,
    team: str | None = None,
) -> InboxPage:
    """One queue of the inbox, newest activity first; with a conversation, it and its customer 360.

    With `team`, only that team's conversations (its queue: view unassigned).
    The breaching queue lists conversations whose SLA target is breached or about to be,
    soonest due first; every row carries its SLA badge.
    """
    now = now or utcnow()
    waiting = [
        Conversation.org_id == org_id,
        Conversation.merged_into_id.is_(None),
        Conversation.status.in_(_WAITING_STATUSES),
    ]
    if team is not None:
        waiting.append(Conversation.team == team)
    counts = {
        v.value: session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(*waiting, _view_condition(v, org_id=org_id, user_id=user_id, now=now))
        )
        or 0
        for v in InboxView
    }
    order = [Conversation.last_message_at.desc(), Conversation.id.desc()]
    if view is InboxView.breaching:
        order.insert(0, sla.soonest_due_order(org_id=org_id))
    conversations = list(
        session.scalars(
            select(Conversation)
            .where(*waiting, _view_condition(view, org_id=org_id, user_id=user_id, now=now))
            .order_by(*order)
            .limit(limit)
        )
    )
    badges = sla.list_sla_badges(
        session, org_id=org_id, conversation_ids=[c.id for c in conversations], now=now
    )
    last = _last_messages(session, org_id=org_id, conversation_ids=[c.id for c in conversations])
    names: dict[int, str] = {}
    rows = []
    for conversation in conversations:
        if conversation.customer_id not in names:
            profile = customers.get_customer_profile(
                session, org_id=org_id, customer_id=conversation.customer_id
            )
            names[conversation.customer_id] = profile.display_name
        message = last.get(conversation.id)
        inbound = message is not None and message.direction is MessageDirection.inbound
        rows.append(
            InboxRow(
                conversation=ConversationOut.model_validate(conversation),
                customer_name=names[conversation.customer_id],
                last_message=" ".join(message.body.split())[:140] if message else "",
                last_direction=message.direction if message else None,
                waiting_since=message.sent_at if inbound and message else None,
                sla=badges.get(conversation.id),
            )
        )
    page = InboxPage(
        view=view,
        team=team,
        counts=counts,
        rows=rows,
        agent_names={u.id: u.name for u in auth.list_users(session, org_id=org_id)},
        now=now,
    )
    if conversation_id is not None:
        page.selected = get_conversation_detail(
            session, org_id=org_id, conversation_id=conversation_id
        )
        page.customer = customers.get_customer_360(
            session, org_id=org_id, customer_id=page.selected.customer_id
        )
        page.macros = list_macros(session, org_id=org_id)
        page.selected_sla = sla.list_sla_badges(
            session, org_id=org_id, conversation_ids=[conversation_id], now=now
        ).get(conversation_id)
    return page


# --- customer 360 and GDPR ------------------------------------------------------------------


def _customer_conversations(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.org_id == org_id, Conversation.customer_id.in_(customer_ids))
            .order_by(Conversation.id)
        )
    )


def _messages_of(session: Session, org_id: int, conversation_ids: list[int]) -> list[Message]:
    if not conversation_ids:
        return []
    return list(
        session.scalars(
            select(Message)
            .where(Message.org_id == org_id, Message.conversation_id.in_(conversation_ids))
            .order_by(Message.sent_at, Message.id)
        )
    )


def _conversation_timeline(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[TimelineEntry]:
    conversations = _customer_conversations(session, org_id, customer_ids)
    entries = [
        TimelineEntry(
            occurred_at=c.created_at,
            kind="conversation",
            title=f"Conversation on {c.channel.value}: {c.subject}",
            detail=c.status.value,
            source_id=str(c.id),
            data={"customer_id": c.customer_id, "channel": c.channel.value},
        )
        for c in conversations
        if c.merged_into_id is None
    ]
    for m in _messages_of(session, org_id, [c.id for c in conversations]):
        if m.direction is MessageDirection.note:
            continue
        who = "Customer wrote" if m.direction is MessageDirection.inbound else "Agent replied"
        entries.append(
            TimelineEntry(
                occurred_at=m.sent_at,
                kind="message",
                title=f"{who} ({m.channel.value})",
                detail=" ".join(m.body.split())[:200],
                source_id=str(m.id),
                data={"conversation_id": m.conversation_id, "direction": m.direction.value},
            )
        )
    return entries


def _export_conversations(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    conversations = _customer_conversations(session, org_id, customer_ids)
    messages = _messages_of(session, org_id, [c.id for c in conversations])
    attachments = _attachments_by_message(
        session, org_id=org_id, message_ids=[m.id for m in messages]
    )
    return {
        "conversations": [
            ConversationOut.model_validate(c).model_dump(mode="json") for c in conversations
        ],
        "conversation_messages": [
            MessageOut.model_validate(m)
            .model_copy(update={"attachments": attachments.get(m.id, [])})
            .model_dump(mode="json")
            for m in messages
        ],
    }


def _erase_conversation_content(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, int]:
    """Blank subjects, bodies, addresses and files; the rows stay for the service measures."""
    conversations = _customer_conversations(session, org_id, customer_ids)
    messages = _messages_of(session, org_id, [c.id for c in conversations])
    for conversation in conversations:
        conversation.subject = ""
    for message in messages:
        message.body = ""
        message.body_html = None
        message.address = None
    files = list(
        session.scalars(
            select(MessageAttachment).where(
                MessageAttachment.org_id == org_id,
                MessageAttachment.message_id.in_([m.id for m in messages]),
            )
        )
    )
    session.execute(
        delete(MessageAttachment).where(
            MessageAttachment.org_id == org_id,
            MessageAttachment.id.in_([f.id for f in files]),
        )
    )
    session.flush()
    data_dir = get_settings().data_dir
    for path in {f.path for f in files}:
        # Content is stored once per digest: keep the file while another message still has it.
        still_used = session.scalar(
            select(func.count())
            .select_from(MessageAttachment)
            .where(MessageAttachment.org_id == org_id, MessageAttachment.path == path)
        )
        if not still_used:
            (data_dir / path).unlink(missing_ok=True)
    return {
        "conversations": len(conversations),
        "conversation_messages": len(messages),
        "message_attachments": len(files),
    }


timeline.register_timeline_source("conversations", _conversation_timeline)
gdpr.register_export_source("conversations", _export_conversations)
gdpr.register_erasure_hook("conversations", _erase_conversation_content)


def list_inbound_message_bodies(
    session: Session, *, org_id: int, message_ids: Sequence[int] | None = None
) -> list[tuple[int, str]]:
    """(message id, body) of every inbound message with a non-empty body, for text analytics;
    only those of `message_ids` when given."""
    statement = select(Message.id, Message.body).where(
        Message.org_id == org_id,
        Message.direction == MessageDirection.inbound,
        Message.body != "",
    )
    if message_ids is not None:
        statement = statement.where(Message.id.in_(list(message_ids)))
    rows = session.execute(statement.order_by(Message.id))
    return [(message_id, body) for message_id, body in rows if body.strip()]


def list_message_sent_times(
    session: Session, *, org_id: int, message_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each of the given messages was sent (received, for inbound ones), by id."""
    rows = session.execute(
        select(Message.id, Message.sent_at).where(
            Message.org_id == org_id, Message.id.in_(list(message_ids))
        )
    )
    return {row_id: moment for row_id, moment in rows}


# --- bulk import ----------------------------------------------------------------------------


def _imported_row(org_id: int, item: ConversationImport) -> dict[str, Any]:
    """The conversation row its messages and resolutions imply, by the live service's rules.

    First response: the first reply by a person (a bot's answer does not count, as the live
    service sets it in `reply_to_conversation` only). A customer message after a resolution
    reopens the conversation; the status is resolved (or closed) when a resolution came after
    the last customer message, else open.
    """
    messages = sorted(item.messages, key=lambda m: m.sent_at)
    inbound = [m.sent_at for m in messages if m.direction is MessageDirection.inbound]
    first_reply = next(
        (
            m.sent_at
            for m in messages
            if m.direction is MessageDirection.outbound and m.author_kind is AuthorKind.agent
        ),
        None,
    )
    reopened = sum(1 for r in item.resolutions if any(t > r for t in inbound))
    last = item.resolutions[-1] if item.resolutions else None
    done = last is not None and all(t <= last for t in inbound)
    status = (
        ConversationStatus.open
        if not done
        else ConversationStatus.closed
        if item.closed
        else ConversationStatus.resolved
    )
    visible = [m.sent_at for m in messages if m.direction is not MessageDirection.note]
    last_message_at = max(visible or [messages[-1].sent_at])
    return {
        "org_id": org_id,
        "customer_id": item.customer_id,
        "channel": item.channel,
        "subject": item.subject or " ".join(messages[0].body.split())[:_SUBJECT_FROM_BODY],
        "status": status,
        "priority": item.priority,
        "tags": list(item.tags),
        "assignee_id": item.assignee_id,
        "team": item.team,
        "touchpoint_id": item.touchpoint_id,
        "first_response_at": first_reply,
        "resolved_at": last if done else None,
        "reopened_count": reopened,
        "last_message_at": last_message_at,
        "created_at": messages[0].sent_at,
        "updated_at": max(last_message_at, last) if last else last_message_at,
    }


def _check_import(session: Session, *, org_id: int, items: Sequence[ConversationImport]) -> None:
    """Every id of this organization, resolutions in order, channel message ids new: else 422."""
    users = {u.id for u in auth.list_users(session, org_id=org_id)}
    touchpoints = {t.id for t in journeys.list_touchpoints(session, org_id=org_id)}
    known = customers.get_customers(
        session, org_id=org_id, customer_ids=[item.customer_id for item in items]
    )
    seen: set[tuple[ConversationChannel, str]] = set()
    for n, item in enumerate(items):
        where = f"items.{n}"
        if item.customer_id not in known:
            raise InvalidInput(f"{where}.customer_id", f"customer {item.customer_id} not found")
        if item.assignee_id is not None and item.assignee_id not in users:
            raise InvalidInput(f"{where}.assignee_id", f"user {item.assignee_id} not found")
        if item.touchpoint_id is not None and item.touchpoint_id not in touchpoints:
            raise InvalidInput(
                f"{where}.touchpoint_id", f"touchpoint {item.touchpoint_id} not found"
            )
        if item.resolutions != sorted(item.resolutions):
            raise InvalidInput(f"{where}.resolutions", "must be oldest first")
        first = min(m.sent_at for m in item.messages)
        if item.resolutions and item.resolutions[0] < first:
            raise InvalidInput(f"{where}.resolutions", "resolved before its first message")
        for m, message in enumerate(item.messages):
            if message.author_user_id is not None and message.author_user_id not in users:
                raise InvalidInput(
                    f"{where}.messages.{m}.author_user_id",
                    f"user {message.author_user_id} not found",
                )
            if message.channel_message_id is not None:
                key = (item.channel, message.channel_message_id)
                if key in seen:
                    raise InvalidInput(
                        f"{where}.messages.{m}.channel_message_id", "appears twice in the import"
                    )
                seen.add(key)
    for channel in {channel for channel, _ in seen}:
        ids = [message_id for c, message_id in seen if c is channel]
        for start in range(0, len(ids), 500):
            stored = session.scalar(
                select(Message.channel_message_id)
                .where(
                    Message.org_id == org_id,
                    Message.channel == channel,
                    Message.channel_message_id.in_(ids[start : start + 500]),
                )
                .limit(1)
            )
            if stored is not None:
                raise InvalidInput(
                    "channel_message_id", f"{channel.value} message {stored!r} is stored already"
                )


def import_conversations(
    session: Session, *, org_id: int, items: Sequence[ConversationImport]
) -> list[int]:
    """Store past conversations whole, in bulk; the ids of the new conversations, in order.

    All or nothing: any unknown customer, user or touchpoint, resolutions out of order or a
    channel message id stored before is an `InvalidInput` naming the item and field. Nothing
    is announced live and no survey is triggered: these conversations are history. Each gets
    its SLA clocks as a live one would have (`sla.start_imported_clocks`).
    """
    _check_import(session, org_id=org_id, items=items)
    if not items:
        return []
    rows = [_imported_row(org_id, item) for item in items]
    ids = list(
        session.scalars(
            insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
            rows,
        )
    )
    messages = []
    for conversation_id, item in zip(ids, items, strict=True):
        for message in sorted(item.messages, key=lambda m: m.sent_at):
            messages.append(
                {
                    "org_id": org_id,
                    "conversation_id": conversation_id,
                    "channel": item.channel,
                    "direction": message.direction,
                    "author_kind": message.author_kind,
                    "author_user_id": message.author_user_id,
                    "address": message.address,
                    "body": message.body,
                    "body_html": None,
                    "channel_message_id": message.channel_message_id,
                    "thread_refs": [],
                    "sent_at": message.sent_at,
                    "delivery_error": None,
                    "created_at": message.sent_at,
                    "updated_at": message.sent_at,
                }
            )
    if messages:
        # Core executemany: one statement for all messages (the ORM would send one per row).
        session.connection().execute(insert(Message.__table__), messages)
    sla.start_imported_clocks(
        session,
        org_id=org_id,
        histories=[
            clocks
            for conversation_id, item, row in zip(ids, items, rows, strict=True)
            if (clocks := _imported_clocks(conversation_id, item, row)) is not None
        ],
        now=utcnow(),
    )
    session.flush()
    return ids


def _imported_clocks(
    conversation_id: int, item: ConversationImport, row: dict[str, Any]
) -> sla.ImportedClocks | None:
    """The clocks an imported conversation had; None without a customer message (no clock)."""
    inbound = sorted(m.sent_at for m in item.messages if m.direction is MessageDirection.inbound)
    if not inbound:
        return None
    reopened_by = [r for r in item.resolutions if any(t > r for t in inbound)]
    since = min(t for t in inbound if t > reopened_by[-1]) if reopened_by else inbound[0]
    return sla.ImportedClocks(
        conversation_id=conversation_id,
        channel=item.channel,
        priority=item.priority,
        team=item.team,
        started_at=inbound[0],
        first_response_at=row["first_response_at"],
        resolution_since=since,
        resolved_at=row["resolved_at"],
    )
