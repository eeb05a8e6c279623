"""The email channel end to end: a real dovecot mailbox in, a real SMTP server out, threaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx.channels import email
from opencx.channels.tasks import fetch_email
from opencx.cli import app as cli_app
from opencx.conversations.models import Conversation, Message
from opencx.errors import InvalidInput
from tests.channels.conftest import ImapServer, SmtpOutbox
from tests.conftest import Tenant

SENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _email(
    *,
    message_id: str | None,
    body: str | None = "Mijn bank is kapot geleverd.",
    html: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    subject: str = "Kapotte bank",
    sent: datetime = SENT,
) -> bytes:
    message = EmailMessage()
    message["From"] = "Anna de Vries <Anna@Example.com>"
    message["To"] = "service@acme.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    if attachment is not None:
        message.add_attachment(
            attachment[1], maintype="image", subtype="jpeg", filename=attachment[0]
        )
    return bytes(message)


# --- parsing: no server needed -------------------------------------------------------------


def test_an_html_only_email_gets_its_text_and_threading_hints() -> None:
    raw = _email(
        message_id="<r2@example.com>",
        body=None,
        html="<html><head><style>p{}</style></head><body><p>Hallo,</p><p>de poot is "
        "<b>gebroken</b>&nbsp;&amp; krom.</p><script>x()</script></body></html>",
        in_reply_to="<agent1@acme.example>",
        references="<c1@example.com> <agent1@acme.example>",
    )
    parsed = email.parse_email(raw, received_at=datetime.now(UTC)).message
    assert parsed.body == "Hallo,\nde poot is gebroken & krom."
    assert parsed.body_html is not None and "<b>gebroken</b>" in parsed.body_html
    assert parsed.thread_refs == ["<c1@example.com>", "<agent1@acme.example>"]
    assert parsed.channel_message_id == "<r2@example.com>"
    assert parsed.sender.value == "anna@example.com"
    assert parsed.sender_name == "Anna de Vries"
    assert parsed.received_at == SENT


def test_a_message_without_message_id_is_identified_by_its_content() -> None:
    raw = _email(message_id=None)
    first = email.parse_email(raw, received_at=SENT).message.channel_message_id
    again = email.parse_email(raw, received_at=SENT).message.channel_message_id
    other = email.parse_email(_email(message_id=None, body="x"), received_at=SENT)
    assert first == again and first is not None and first.endswith("@opencx.invalid>")
    assert other.message.channel_message_id != first


def test_nul_characters_are_dropped_from_text() -> None:
    raw = _email(message_id="<nul@x>", body="kapot\x00 geleverd", subject="Kap\x00ot")
    parsed = email.parse_email(raw, received_at=SENT).message
    assert (parsed.subject, parsed.body) == ("Kapot", "kapot geleverd\n")


def test_a_message_without_sender_is_refused_naming_the_field() -> None:
    message = EmailMessage()
    message["Subject"] = "no from"
    message.set_content("hi")
    with pytest.raises(InvalidInput) as refused:
        email.parse_email(bytes(message), received_at=SENT)
    assert refused.value.field == "from"


# --- a real mailbox and a real SMTP server ---------------------------------------------------


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_mail_becomes_a_conversation_the_reply_is_threaded_and_the_answer_joins_it(
    client: TestClient,
    db_session: Session,
    tenant: Tenant,
    imap_mailbox: ImapServer,
    smtp_outbox: SmtpOutbox,
    settings_env: Path,
) -> None:
    photo = b"\xff\xd8\xff\xe0 not really a jpeg"
    # given a customer's email with a photo in the desk's mailbox
    imap_mailbox.append(
        _email(
            message_id="<c1@example.com>",
            html="<p>Mijn bank is <b>kapot</b> geleverd.</p>",
            attachment=("poot.jpg", photo),
        )
    )
    # when the mailbox is fetched
    report = fetch_email(org_id=tenant.org_id)
    # then it is one new conversation of a new customer, with the photo kept as a file
    assert (report.fetched, report.stored, report.conversations_created) == (1, 1, 1)
    page = client.get("/api/v1/conversations", headers=tenant.headers).json()
    (conversation,) = page["items"]
    assert conversation["channel"] == "email" and conversation["subject"] == "Kapotte bank"
    detail = client.get(f"/api/v1/conversations/{conversation['id']}", headers=tenant.headers)
    (first,) = detail.json()["messages"]
    assert first["body"] == "Mijn bank is kapot geleverd.\n"
    assert "<b>kapot</b>" in first["body_html"]
    assert first["address"] == "anna@example.com"
    (attachment,) = first["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "poot.jpg",
        "image/jpeg",
        len(photo),
    )
    stored = settings_env / "attachments" / str(tenant.org_id) / attachment["sha256"][:2]
    assert (stored / attachment["sha256"]).read_bytes() == photo
    # and the message is flagged on the server, so the next fetch finds nothing
    assert any("OpenCXStored" in flags and "\\Seen" in flags for flags in imap_mailbox.flags())
    assert fetch_email(org_id=tenant.org_id).fetched == 0
    # when the mail server delivers the same message a second time
    imap_mailbox.append(_email(message_id="<c1@example.com>"))
    again = fetch_email(org_id=tenant.org_id)
    # then it is a duplicate: stored once
    assert (again.fetched, again.stored, again.duplicates) == (1, 0, 1)
    assert _count(db_session, Message) == 1

    # when the agent replies
    reply = client.post(
        f"/api/v1/conversations/{conversation['id']}/replies",
        headers=tenant.headers,
        json={
            "body": "Wat vervelend! We sturen een nieuwe poot.",
            "body_html": "<p>Wat vervelend!</p>",
        },
    )
    assert reply.status_code == 201, reply.text
    sent = reply.json()
    assert sent["delivery_error"] is None
    # then the reply arrives by SMTP, threaded on the customer's message
    ((recipients, mail),) = smtp_outbox.messages
    assert recipients == ["anna@example.com"]
    assert mail["From"] == "Acme Service <service@acme.example>"
    assert mail["Subject"] == "Re: Kapotte bank"
    assert mail["In-Reply-To"] == "<c1@example.com>"
    assert mail["References"] == "<c1@example.com>"
    assert mail["Message-ID"] == sent["channel_message_id"]
    assert mail.get_body(preferencelist=("plain",)).get_content().startswith("Wat vervelend!")
    assert "<p>Wat vervelend!</p>" in mail.get_body(preferencelist=("html",)).get_content()

    # when the agent resolves it and the customer answers the agent's mail
    client.patch(
        f"/api/v1/conversations/{conversation['id']}",
        headers=tenant.headers,
        json={"status": "resolved"},
    )
    imap_mailbox.append(
        _email(
            message_id="<c2@example.com>",
            body="Dank u, maar wanneer komt hij?",
            subject="Re: Kapotte bank",
            in_reply_to=sent["channel_message_id"],
            references=f"<c1@example.com> {sent['channel_message_id']}",
            sent=datetime.now(UTC) + timedelta(seconds=2),  # Date has whole seconds
        )
    )
    answer = fetch_email(org_id=tenant.org_id)
    # then the answer joins the same conversation, which is open again
    assert (answer.stored, answer.conversations_created) == (1, 0)
    after = client.get(f"/api/v1/conversations/{conversation['id']}", headers=tenant.headers).json()
    assert after["status"] == "open" and after["reopened_count"] == 1
    assert [m["direction"] for m in after["messages"]] == ["inbound", "outbound", "inbound"]
    # and the next reply references the whole thread, answering the newest message
    client.post(
        f"/api/v1/conversations/{conversation['id']}/replies",
        headers=tenant.headers,
        json={"body": "Donderdag."},
    )
    second_mail = smtp_outbox.messages[1][1]
    assert second_mail["In-Reply-To"] == "<c2@example.com>"
    assert second_mail["References"].split() == [
        "<c1@example.com>",
        sent["channel_message_id"],
        "<c2@example.com>",
    ]
    assert _count(db_session, Conversation) == 1


def test_a_reply_the_smtp_server_cannot_take_is_kept_with_the_reason(
    client: TestClient, tenant: Tenant, imap_mailbox: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_mailbox.append(_email(message_id="<lost@example.com>"))
    fetch_email(org_id=tenant.org_id)
    (conversation,) = client.get("/api/v1/conversations", headers=tenant.headers).json()["items"]
    # given an SMTP server that is not there
    from tests.channels.conftest import _free_port

    monkeypatch.setenv("OPENCX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(_free_port()))
    from opencx.settings import get_settings

    get_settings.cache_clear()
    reply = client.post(
        f"/api/v1/conversations/{conversation['id']}/replies",
        headers=tenant.headers,
        json={"body": "Hallo"},
    )
    # then the reply is stored, not lost, and says why it did not go out
    assert reply.status_code == 201
    assert "SMTP server did not take" in reply.json()["delivery_error"]
    assert reply.json()["channel_message_id"] is None


def test_the_cli_fetches_the_mailbox_and_reports_rejected_mail(
    db_session: Session, tenant: Tenant, imap_mailbox: ImapServer
) -> None:
    imap_mailbox.append(_email(message_id="<cli1@example.com>"))
    nobody = EmailMessage()
    nobody["Subject"] = "no sender"
    nobody["Message-ID"] = "<nobody@example.com>"
    nobody.set_content("?")
    imap_mailbox.append(bytes(nobody))
    # when the command runs
    result = CliRunner().invoke(cli_app, ["channels", "email", "fetch", "--org", tenant.slug])
    # then it stored one message and named the one it refused, which is not fetched again
    assert result.exit_code == 0, result.output
    assert "2 fetched, 1 stored (1 new conversations), 0 duplicates, 1 rejected" in result.output
    assert "from: the message names no sender address" in result.output
    assert any("OpenCXRejected" in flags for flags in imap_mailbox.flags())
    assert _count(db_session, Message) == 1
    second = CliRunner().invoke(cli_app, ["channels", "email", "fetch", "--org", tenant.slug])
    assert "0 fetched" in second.output
    unknown = CliRunner().invoke(cli_app, ["channels", "email", "fetch", "--org", "nope"])
    assert unknown.exit_code == 1
