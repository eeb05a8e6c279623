"""The email channel: messages parsed from RFC 5322 bytes, mailboxes read by IMAP, replies sent by SMTP.

Threading follows the headers: a message's Message-ID is its channel id, In-Reply-To and
References are its thread hints, and a reply carries In-Reply-To (the customer's last message)
and References (that message's references plus its id), so mail clients and the desk agree.
"""

from __future__ import annotations

import hashlib
import imaplib
import re
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid, parsedate_to_datetime
from html.parser import HTMLParser

from pydantic import ValidationError
from sqlalchemy.orm import Session

from opencx.channels.adapter import NormalizedMessage
from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundAttachment, InboundMessageIn, OutboundDelivery
from opencx.conversations.service import DeliveryFailed
from opencx.customers.models import IdentityKind
from opencx.errors import InvalidInput
from opencx.settings import Settings, get_settings

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# IMAP keywords that mark a message as handled, so the next fetch skips it.
PROCESSED_KEYWORD = "OpenCXStored"
REJECTED_KEYWORD = "OpenCXRejected"
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def text_of_html(html: str) -> str:
    """The readable text of an HTML body: no tags, scripts or styles; one line per block."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _sent_at(message: EmailMessage, fallback: datetime) -> datetime:
    try:
        sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        sent = None
    if sent is None or sent.tzinfo is None:
        return fallback
    return sent.astimezone(UTC)


def _text(part: EmailMessage | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return None
    # Mail travels with CRLF line ends; store text the way every other channel sends it. NUL
    # has no place in text and PostgreSQL cannot store it.
    return content.replace("\r\n", "\n").replace("\x00", "")


def parse_email(raw: bytes, *, received_at: datetime) -> NormalizedMessage:
    """One email as an inbound message; `received_at` stands in for a missing or bad Date."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    ids = _message_ids(str(message["Message-ID"] or ""))
    # Without a Message-ID the content itself is the identity, so a refetch is still one message.
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@opencx.invalid>"
    references = _message_ids(str(message["References"] or ""))
    for reply_to in _message_ids(str(message["In-Reply-To"] or "")):
        if reply_to not in references:
            references.append(reply_to)
    senders = getaddresses([str(message["From"] or "")])
    name, address = senders[0] if senders else ("", "")
    if not address:
        raise InvalidInput("from", "the message names no sender address")
    plain = _text(message.get_body(preferencelist=("plain",)))  # type: ignore[arg-type]
    html = _text(message.get_body(preferencelist=("html",)))  # type: ignore[arg-type]
    body = plain if plain is not None else text_of_html(html) if html is not None else ""
    attachments = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        attachments.append(
            InboundAttachment(
                filename=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                content=content,
            )
        )
    try:
        inbound = InboundMessageIn(
            channel=ConversationChannel.email,
            channel_message_id=message_id[:500],
            thread_refs=[ref[:500] for ref in references[-100:]],
            sender={"kind": IdentityKind.email, "value": address},
            sender_name=name[:200] or None,
            subject=str(message["Subject"] or "").replace("\x00", "")[:300],
            body=body,
            body_html=html,
            received_at=_sent_at(message, received_at),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"]) from exc
    return NormalizedMessage(message=inbound, attachments=tuple(attachments))


def compose_reply(delivery: OutboundDelivery, *, sender: str) -> EmailMessage:
    """The reply as an email: threaded by In-Reply-To and References, plain text with HTML beside."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.to
    message["Subject"] = delivery.subject or f"Conversation {delivery.conversation_id}"
    domain = getaddresses([sender])[0][1].rpartition("@")[2] or "opencx"
    message["Message-ID"] = make_msgid(domain=domain)
    if delivery.in_reply_to:
        message["In-Reply-To"] = delivery.in_reply_to
    if delivery.references:
        message["References"] = " ".join(delivery.references)
    message.set_content(delivery.body)
    if delivery.body_html:
        message.add_alternative(delivery.body_html, subtype="html")
    return message


def _reply_sender(settings: Settings) -> str:
    return settings.desk_email_from or settings.smtp_from


def send_email_reply(session: Session, delivery: OutboundDelivery) -> str:
    """Hand the reply to the SMTP server; returns its Message-ID."""
    settings = get_settings()
    if not settings.smtp_host:
        raise DeliveryFailed("email is not configured on this server (OPENCX_SMTP_HOST)")
    try:
        Address(addr_spec=delivery.to)
    except (ValueError, IndexError) as exc:
        raise DeliveryFailed(f"not an email address: {delivery.to}") from exc
    message = compose_reply(delivery, sender=_reply_sender(settings))
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"the SMTP server did not take the message: {exc}") from exc
    return str(message["Message-ID"])


class EmailAdapter:
    """The email channel behind the adapter interface: one RFC 5322 message per delivery."""

    channel = ConversationChannel.email

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]:
        return [parse_email(raw, received_at=received_at)]


@dataclass(frozen=True)
class ImapMessage:
    uid: str
    raw: bytes
    received_at: datetime


class ImapMailbox:
    """A mailbox folder on an IMAP server, read by UID; handled messages get a keyword."""

    def __init__(self, settings: Settings) -> None:
        if not settings.imap_host:
            raise InvalidInput("imap_host", "no mailbox configured (OPENCX_IMAP_HOST)")
        self._settings = settings
        self._imap: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapMailbox:
        s = self._settings
        imap_class = imaplib.IMAP4_SSL if s.imap_ssl else imaplib.IMAP4
        imap = imap_class(s.imap_host, s.imap_port, timeout=30)
        imap.login(s.imap_username, s.imap_password)
        status, _ = imap.select(s.imap_folder)
        if status != "OK":
            imap.logout()
            raise InvalidInput("imap_folder", f"the server has no folder {s.imap_folder!r}")
        self._imap = imap
        return self

    def __exit__(self, *exc: object) -> None:
        if self._imap is not None:
            try:
                self._imap.close()
            finally:
                self._imap.logout()
            self._imap = None

    @property
    def imap(self) -> imaplib.IMAP4:
        assert self._imap is not None, "use the mailbox in a with block"
        return self._imap

    def unhandled(self) -> Iterator[ImapMessage]:
        """Messages without either keyword, oldest UID first."""
        status, data = self.imap.uid(
            "SEARCH", "UNKEYWORD", PROCESSED_KEYWORD, "UNKEYWORD", REJECTED_KEYWORD
        )
        if status != "OK":
            raise RuntimeError(f"IMAP search failed: {data!r}")
        uids = sorted((data[0] or b"").split(), key=int)
        for uid in uids:
            status, parts = self.imap.uid("FETCH", uid, "(BODY.PEEK[] INTERNALDATE)")
            if status != "OK":
                raise RuntimeError(f"IMAP fetch of UID {uid!r} failed: {parts!r}")
            for part in parts:
                if isinstance(part, tuple):
                    # Internaldate2tuple answers in local time; mktime reads it back as such.
                    date = imaplib.Internaldate2tuple(part[0])
                    received = (
                        datetime.fromtimestamp(time.mktime(date), UTC)
                        if date
                        else datetime.now(UTC)
                    )
                    yield ImapMessage(uid.decode(), part[1], received)

    def mark(self, uid: str, *, stored: bool) -> None:
        """Flag a message as handled: seen, and stored or rejected."""
        keyword = PROCESSED_KEYWORD if stored else REJECTED_KEYWORD
        self.imap.uid("STORE", uid, "+FLAGS", f"(\\Seen {keyword})")
