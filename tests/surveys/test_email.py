"""Email invitations through a real SMTP server on localhost (aiosmtpd), read back as they arrived."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.settings import get_settings
from opencx.surveys.models import SurveyInvitation
from tests.conftest import Tenant
from tests.surveys.conftest import World


class Mailbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(settings_env: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OPENCX_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(port))
    monkeypatch.setenv("OPENCX_SMTP_FROM", "Acme <feedback@acme.example>")
    monkeypatch.setenv("OPENCX_PUBLIC_URL", "https://cx.acme.example/")
    get_settings.cache_clear()
    yield box
    controller.stop()


def _invitations(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SurveyInvitation)) or 0


def test_an_email_invitation_arrives_in_the_customers_language_with_a_working_link(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, mailbox: Mailbox
) -> None:
    # when Anna (Dutch) is invited with send_email
    response = client.post(
        f"/api/v1/surveys/{world.nps_survey_id}/invitations",
        headers=tenant.headers,
        json={"customer_id": world.anna_id, "channel": "email", "send_email": True},
    )
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["sent_at"] is not None
    # then one message arrived at her address, in Dutch, with the link to her survey
    ((recipients, message),) = mailbox.messages
    assert recipients == ["anna@example.com"]
    assert message["From"] == "Acme <feedback@acme.example>"
    assert message["Subject"] == "Een korte vraag over uw ervaring met Acme"
    body = message.get_content()
    assert body.startswith("Hallo Anna,")
    link = f"https://cx.acme.example/s/{invitation['token']}"
    assert link in body
    # and the link opens her survey
    page = client.get(link.removeprefix("https://cx.acme.example"))
    assert page.status_code == 200 and "Hoe waarschijnlijk" in page.text


def test_a_customer_without_an_address_or_a_non_email_channel_is_refused(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, mailbox: Mailbox
) -> None:
    # given Pat, who agreed to surveys by email but gave only a phone number
    pat, _ = customers.upsert_customer(
        db_session,
        org_id=world.org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": "Pat",
                "identities": [{"kind": "phone", "value": "+31612345678"}],
                "consents": [{"purpose": "surveys", "channel": "any", "status": "granted"}],
            }
        ),
        source="test",
    )
    db_session.commit()
    url = f"/api/v1/surveys/{world.nps_survey_id}/invitations"
    no_address = client.post(
        url,
        headers=tenant.headers,
        json={"customer_id": pat.id, "channel": "email", "send_email": True},
    )
    assert no_address.status_code == 409 and "no email address" in no_address.json()["detail"]
    sms = client.post(
        url,
        headers=tenant.headers,
        json={"customer_id": pat.id, "channel": "sms", "send_email": True},
    )
    assert sms.status_code == 422 and sms.json()["detail"][0]["loc"][-1] == "send_email"
    assert _invitations(db_session) == 0 and mailbox.messages == []


def test_when_the_smtp_server_is_down_no_invitation_is_stored(
    client: TestClient,
    db_session: Session,
    world: World,
    tenant: Tenant,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the configured SMTP port where nothing listens
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(_free_port()))
    get_settings.cache_clear()
    # when Anna is invited by email, then 409 naming the SMTP problem, and nothing is stored
    down = client.post(
        f"/api/v1/surveys/{world.nps_survey_id}/invitations",
        headers=tenant.headers,
        json={"customer_id": world.anna_id, "channel": "email", "send_email": True},
    )
    assert down.status_code == 409 and "SMTP" in down.json()["detail"]
    assert _invitations(db_session) == 0


def test_without_smtp_configured_email_invitations_are_refused(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    response = client.post(
        f"/api/v1/surveys/{world.nps_survey_id}/invitations",
        headers=tenant.headers,
        json={"customer_id": world.anna_id, "channel": "email", "send_email": True},
    )
    assert response.status_code == 409 and "OPENCX_SMTP_HOST" in response.json()["detail"]
    assert _invitations(db_session) == 0
