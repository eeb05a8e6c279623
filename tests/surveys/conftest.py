"""Customers with and without survey consent, an active NPS survey, and a real SMTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session

from opencx import jobs
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.settings import get_settings
from opencx.surveys import service
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.conftest import Tenant

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class World:
    org_id: int
    nps_survey_id: int
    anna_id: int  # Dutch, consents to surveys by email
    piotr_id: int  # Polish, consents to surveys by email
    jane_id: int  # no language, consents to surveys on any channel
    silent_id: int  # never gave survey consent


def make_customer(
    session: Session, org_id: int, name: str, language: str | None, **consent: str
) -> int:
    consents = (
        [
            {
                "purpose": "surveys",
                "status": "granted",
                "occurred_at": NOW - timedelta(days=400),
                **consent,
            }
        ]
        if consent
        else []
    )
    customer, _ = customers.upsert_customer(
        session,
        org_id=org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": name,
                "language": language,
                "identities": [{"kind": "email", "value": f"{name.lower()}@example.com"}],
                "consents": consents,
            }
        ),
        source="test",
    )
    return customer.id


@pytest.fixture
def world(db_session: Session, tenant: Tenant) -> World:
    org_id = tenant.org_id
    survey = service.create_survey(
        db_session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
    )
    service.publish_survey(db_session, org_id=org_id, survey_id=survey.id)
    result = World(
        org_id=org_id,
        nps_survey_id=survey.id,
        anna_id=make_customer(db_session, org_id, "Anna", "nl", channel="email"),
        piotr_id=make_customer(db_session, org_id, "Piotr", "pl", channel="email"),
        jane_id=make_customer(db_session, org_id, "Jane", None, channel="any"),
        silent_id=make_customer(db_session, org_id, "Silent", "en"),
    )
    db_session.commit()
    return result


def invite(session: Session, world: World, customer_id: int, **source: object) -> str:
    """Invite a customer by email to the NPS survey; return the token."""
    invitation = service.create_invitation(
        session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn.model_validate(
            {"customer_id": customer_id, "channel": "email", **source}
        ),
    )
    session.commit()
    return invitation.token


class Mailbox:
    """Collects every message the SMTP server accepts; it may refuse the first few (try later)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse_next = 0
        self.refused = 0

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if recipients == [address]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(settings_env: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OPENCX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(port))
    monkeypatch.setenv("OPENCX_SMTP_FROM", "Acme <feedback@acme.example>")
    monkeypatch.setenv("OPENCX_PUBLIC_URL", "https://cx.acme.example/")
    get_settings.cache_clear()
    yield box
    wait_for_jobs()
    controller.stop()


def wait_for_jobs() -> None:
    """Let the send jobs queued so far finish: both pool workers must reach a barrier together."""
    barrier = threading.Barrier(2)
    waits = [jobs._pool().submit(barrier.wait, 30) for _ in range(2)]
    for wait in waits:
        wait.result(timeout=60)
