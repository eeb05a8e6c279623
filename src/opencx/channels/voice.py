"""Voice: phone calls reported by a telephony system's webhook become conversations on channel voice.

The call's facts (direction, numbers, times, duration, recording link, agent) are a row of
`voice_calls`, one per call id; its words are messages of the conversation, so the inbox shows
them and text enrichment reads the customer's: the call itself (`call:<id>`, inbound from the
customer or outbound by the agent), each transcript turn (`call:<id>:turn:<n>`, the customer's
inbound, the agent's outbound), and notes by the system (answered, ended, missed, recording).
Every message has a channel id made from the call id, so a redelivered event stores nothing new.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.channels.models import CallDirection, CallStatus, VoiceCall
from opencx.channels.schemas import CallEvent, CallEventIn, CallEventResult, CallOut, Speaker
from opencx.conversations import service as conversations
from opencx.conversations.models import AuthorKind, ConversationChannel, MessageDirection
from opencx.conversations.schemas import ConversationPatch, InboundMessageIn, InboundResult
from opencx.customers import gdpr
from opencx.customers import service as customers
from opencx.customers.models import IdentityKind
from opencx.customers.schemas import CustomerIn, IdentityIn
from opencx.errors import InvalidInput

CALLBACK_TAG = "callback"


def parse_call_event(raw: bytes) -> CallEventIn:
    """The call event of a voice webhook body; 422 naming the field when it does not parse."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from exc
    try:
        return CallEventIn.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(field, first["msg"]) from exc


def _phone(value: str, field: str) -> IdentityIn:
    try:
        return IdentityIn(kind=IdentityKind.phone, value=value)
    except ValidationError as exc:
        raise InvalidInput(field, exc.errors()[0]["msg"]) from exc


def _ensure_caller(session: Session, *, org_id: int, phone: IdentityIn, name: str | None) -> None:
    """Make an unknown caller a customer first: from the desk's English call lines the desk
    would otherwise guess their language."""
    found = customers.find_customer_id(
        session, org_id=org_id, kind=phone.kind, value=phone.value, namespace=phone.namespace
    )
    if found is None:
        first_name, _, last_name = (name or "").strip().partition(" ")
        customers.upsert_customer(
            session,
            org_id=org_id,
            data=CustomerIn(
                first_name=first_name[:200] or None,
                last_name=last_name.strip()[:200] or None,
                identities=[phone],
            ),
            source=f"channel:{ConversationChannel.voice.value}",
        )


def _agent_id(session: Session, *, org_id: int, email: str | None) -> int | None:
    # An agent the telephony system knows but OpenCX does not is left unnamed, not refused.
    if not email:
        return None
    wanted = email.strip().lower()
    for user in auth.list_users(session, org_id=org_id):
        if user.email == wanted:
            return user.id
    return None


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _began(event: CallEventIn) -> datetime:
    """When the call began as far as this event tells: an end with talk time began that long before."""
    if event.event is CallEvent.ended and event.duration_seconds:
        return event.occurred_at - timedelta(seconds=event.duration_seconds)
    return event.occurred_at


def _status(call: VoiceCall) -> CallStatus:
    # From the facts, so events arriving out of order still end in the right state.
    if call.ended_at is None:
        return CallStatus.answered if call.answered_at else CallStatus.ringing
    return CallStatus.ended if call.answered_at else CallStatus.missed


class _CallWriter:
    """Writes one event's messages into the call's conversation, counting what was new."""

    def __init__(self, session: Session, org_id: int, event: CallEventIn, customer: IdentityIn):
        self.session = session
        self.org_id = org_id
        self.event = event
        self.customer = customer
        self.stored = 0
        self.duplicates = 0

    def write(
        self,
        suffix: str,
        body: str,
        at: datetime,
        direction: MessageDirection,
        author: AuthorKind,
        *,
        agent_id: int | None = None,
        subject: str = "",
    ) -> InboundResult:
        call_ref = f"call:{self.event.call_id}"
        data = InboundMessageIn(
            channel=ConversationChannel.voice,
            channel_message_id=f"{call_ref}{suffix}",
            thread_refs=[call_ref] if suffix else [],
            sender=self.customer,
            sender_name=self.event.caller_name,
            subject=subject,
            body=body,
            received_at=at,
        )
        result = conversations.record_channel_message(
            self.session,
            org_id=self.org_id,
            data=data,
            direction=direction,
            author_kind=author,
            author_user_id=agent_id,
        )
        self.duplicates += int(result.duplicate)
        self.stored += int(not result.duplicate)
        return result


def _open_call(
    session: Session, *, org_id: int, event: CallEventIn, writer: _CallWriter
) -> tuple[VoiceCall, bool]:
    """The call's row, made with its first message (which opens or continues the conversation)."""
    call = session.scalar(
        select(VoiceCall).where(VoiceCall.org_id == org_id, VoiceCall.call_id == event.call_id)
    )
    if call is not None:
        if call.direction is not event.direction:
            raise InvalidInput("direction", f"call {event.call_id} is {call.direction.value}")
        return call, False
    number = writer.customer.value
    inbound = event.direction is CallDirection.inbound
    if inbound:
        text = f"{'Missed call' if event.event is CallEvent.missed else 'Phone call'} from {number}"
    else:
        text = f"Phone call to {number}"
    agent_id = _agent_id(session, org_id=org_id, email=event.agent_email)
    result = writer.write(
        "",
        text,
        _began(event),
        MessageDirection.inbound if inbound else MessageDirection.outbound,
        AuthorKind.customer if inbound else AuthorKind.agent,
        agent_id=agent_id,
        subject=text,
    )
    call = VoiceCall(
        org_id=org_id,
        call_id=event.call_id,
        conversation_id=result.conversation.id,
        customer_id=result.conversation.customer_id,
        direction=event.direction,
        status=CallStatus.ringing,
        agent_user_id=agent_id,
        transcript_turns=0,
    )
    session.add(call)
    return call, result.conversation_created


def _apply_facts(session: Session, *, org_id: int, call: VoiceCall, event: CallEventIn) -> None:
    at = event.occurred_at
    call.from_number = call.from_number or _number(event.from_)
    call.to_number = call.to_number or _number(event.to)
    if event.event is not CallEvent.transcript:
        call.started_at = min(call.started_at or _began(event), _began(event))
    if event.event is CallEvent.answered:
        call.answered_at = call.answered_at or at
    if event.event in (CallEvent.ended, CallEvent.missed):
        call.ended_at = call.ended_at or at
    if event.duration_seconds is not None:
        call.duration_seconds = event.duration_seconds
        if event.event is CallEvent.ended and event.duration_seconds and not call.answered_at:
            # A system that reports only the end (a call record): talk time means it was answered.
            call.answered_at = _began(event)
    elif call.duration_seconds is None and call.answered_at and call.ended_at:
        call.duration_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    call.recording_url = call.recording_url or event.recording_url
    agent_id = _agent_id(session, org_id=org_id, email=event.agent_email)
    call.agent_user_id = call.agent_user_id or agent_id
    call.status = _status(call)


def _number(value: str) -> str:
    # A number that does not parse (a withheld caller on the desk's side) is kept as given.
    try:
        return IdentityIn(kind=IdentityKind.phone, value=value).value
    except ValidationError:
        return value.strip()[:32]


def _write_outcome(call: VoiceCall, writer: _CallWriter) -> None:
    system, note = AuthorKind.system, MessageDirection.note
    inbound = call.direction is CallDirection.inbound
    if call.answered_at is not None and inbound:
        # Picking up is the desk's first response on a call.
        writer.write(
            ":answered",
            "Answered the call",
            call.answered_at,
            MessageDirection.outbound,
            AuthorKind.agent,
            agent_id=call.agent_user_id,
        )
    if call.status is CallStatus.ended and call.ended_at is not None:
        length = f" after {_duration(call.duration_seconds)}" if call.duration_seconds else ""
        writer.write(":ended", f"Call ended{length}.", call.ended_at, note, system)
    if call.status is CallStatus.missed and call.ended_at is not None:
        text = (
            f"Missed call: call the customer back on {writer.customer.value}."
            if inbound
            else "No answer: the customer did not pick up."
        )
        result = writer.write(":missed", text, call.ended_at, note, system)
        if inbound and not result.duplicate:
            _tag_callback(writer.session, org_id=call.org_id, conversation_id=call.conversation_id)
    if call.recording_url:
        at = call.ended_at or writer.event.occurred_at
        writer.write(":recording", f"Recording: {call.recording_url}", at, note, system)


def _tag_callback(session: Session, *, org_id: int, conversation_id: int) -> None:
    conversation = conversations.get_conversation(
        session, org_id=org_id, conversation_id=conversation_id
    )
    if CALLBACK_TAG not in conversation.tags and conversation.merged_into_id is None:
        conversations.update_conversation(
            session,
            org_id=org_id,
            conversation_id=conversation_id,
            changes=ConversationPatch(tags=[*conversation.tags, CALLBACK_TAG]),
        )


def _write_transcript(call: VoiceCall, writer: _CallWriter) -> None:
    transcript = writer.event.transcript
    if transcript is None:
        return
    start = call.answered_at or call.started_at or writer.event.occurred_at
    for n, turn in enumerate(transcript.turns):
        customer = turn.speaker is Speaker.customer
        writer.write(
            f":turn:{n}",
            turn.text,
            start + timedelta(seconds=turn.offset_seconds or 0),
            MessageDirection.inbound if customer else MessageDirection.outbound,
            AuthorKind.customer if customer else AuthorKind.agent,
            agent_id=None if customer else call.agent_user_id,
        )
    call.transcript_turns = max(call.transcript_turns, len(transcript.turns))


def record_call_event(session: Session, *, org_id: int, event: CallEventIn) -> CallEventResult:
    """Record one event of a call: its facts, its conversation and messages; repeats change nothing."""
    inbound = event.direction is CallDirection.inbound
    customer = _phone(event.from_ if inbound else event.to, "from" if inbound else "to")
    _ensure_caller(session, org_id=org_id, phone=customer, name=event.caller_name)
    writer = _CallWriter(session, org_id, event, customer)
    call, conversation_created = _open_call(session, org_id=org_id, event=event, writer=writer)
    _apply_facts(session, org_id=org_id, call=call, event=event)
    session.flush()
    _write_transcript(call, writer)
    _write_outcome(call, writer)
    session.flush()
    return CallEventResult(
        call=CallOut.model_validate(call),
        conversation_created=conversation_created,
        messages_stored=writer.stored,
        duplicates=writer.duplicates,
    )


def list_calls(
    session: Session,
    *,
    org_id: int,
    conversation_id: int | None = None,
    status: CallStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CallOut]:
    """The organization's calls, newest first; of one conversation or in one state."""
    query = select(VoiceCall).where(VoiceCall.org_id == org_id)
    if conversation_id is not None:
        query = query.where(VoiceCall.conversation_id == conversation_id)
    if status is not None:
        query = query.where(VoiceCall.status == status)
    rows = session.scalars(
        query.order_by(VoiceCall.id.desc()).limit(max(1, limit)).offset(max(0, offset))
    )
    return [CallOut.model_validate(row) for row in rows]


def _export_calls(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    rows = session.scalars(
        select(VoiceCall)
        .where(VoiceCall.org_id == org_id, VoiceCall.customer_id.in_(customer_ids))
        .order_by(VoiceCall.id)
    )
    return {"voice_calls": [CallOut.model_validate(r).model_dump(mode="json") for r in rows]}


def _erase_calls(session: Session, org_id: int, customer_ids: list[int]) -> dict[str, int]:
    """Blank the numbers and the recording link; the rows stay for the service measures."""
    result = session.execute(
        update(VoiceCall)
        .where(VoiceCall.org_id == org_id, VoiceCall.customer_id.in_(customer_ids))
        .values(from_number=None, to_number=None, recording_url=None)
    )
    return {"voice_calls": int(getattr(result, "rowcount", 0) or 0)}


gdpr.register_export_source("voice_calls", _export_calls)
gdpr.register_erasure_hook("voice_calls", _erase_calls)
