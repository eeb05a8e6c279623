"""Email invitations through a real SMTP server on localhost (aiosmtpd), read back as they arrived."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx import jobs
from opencx.app import create_app
from opencx.cli import app
from opencx.customers import service as customers
from opencx.customers.schemas import ConsentIn, CustomerIn
from opencx.settings import get_settings
from opencx.surveys import service
from opencx.surveys.models import EmailSendStatus, SurveyInvitation
from opencx.surveys.schemas import DispatchReport, InvitationIn
from opencx.surveys.tasks import dispatch_due_work
from tests.conftest import Tenant
from tests.surveys.conftest import (
    NOW,
    Mailbox,
    World,
    free_port,
    invite,
    make_customer,
    wait_for_jobs,
)


def _invitations(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SurveyInvitation)) or 0


def _read(client: TestClient, tenant: Tenant, invitation_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/survey-invitations/{invitation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _invite_anna_by_email(client: TestClient, world: World, tenant: Tenant) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/surveys/{world.nps_survey_id}/invitations",
        headers=tenant.headers,
        json={"customer_id": world.anna_id, "channel": "email", "send_email": True},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_email_invitation_arrives_in_the_customers_language_with_a_working_link(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, mailbox: Mailbox
) -> None:
    # when Anna (Dutch) is invited with send_email
    invitation = _invite_anna_by_email(client, world, tenant)
    # then the answer comes at once, the email queued for the background job
    assert invitation["send_status"] in ("queued", "sending", "sent")
    wait_for_jobs()
    sent = _read(client, tenant, invitation["id"])
    assert sent["send_status"] == "sent" and sent["sent_at"] is not None
    assert sent["send_attempts"] == 1 and sent["send_error"] is None
    # and one message arrived at her address, in Dutch, with the link to her survey
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
    # and a dispatcher round afterwards sends nothing again
    assert dispatch_due_work(now=NOW + timedelta(days=1)).sent == 0
    assert len(mailbox.messages) == 1


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
    # and a customer without consent is refused before anything is queued
    silent = client.post(
        url,
        headers=tenant.headers,
        json={"customer_id": world.silent_id, "channel": "email", "send_email": True},
    )
    assert silent.status_code == 409 and "consent" in silent.json()["detail"]
    assert _invitations(db_session) == 0 and mailbox.messages == []


def test_an_smtp_server_that_refuses_at_first_gets_the_email_on_a_later_retry(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, mailbox: Mailbox
) -> None:
    # given an SMTP server that answers "try again later" twice
    mailbox.refuse_next = 2
    # when Anna is invited by email, then the invitation is stored and the first attempt fails
    invitation = _invite_anna_by_email(client, world, tenant)
    wait_for_jobs()
    first = _read(client, tenant, invitation["id"])
    assert first["send_status"] == "queued" and first["send_attempts"] == 1
    assert "try again later" in first["send_error"]
    retry_at = datetime.fromisoformat(first["next_send_at"])
    # when the dispatcher runs before the retry is due, it does not try
    assert dispatch_due_work(now=retry_at - timedelta(seconds=1)).retrying == 0
    assert _read(client, tenant, invitation["id"])["send_attempts"] == 1
    # when it runs at the retry, the server refuses again, and the wait doubles
    second_report = dispatch_due_work(now=retry_at)
    second = _read(client, tenant, invitation["id"])
    assert second_report.retrying == 1 and second["send_attempts"] == 2
    next_at = datetime.fromisoformat(second["next_send_at"])
    assert next_at - retry_at == timedelta(seconds=2 * get_settings().survey_email_retry_seconds)
    # when it runs again, the server takes it: one message arrived, the invitation is sent
    assert dispatch_due_work(now=next_at).sent == 1
    done = _read(client, tenant, invitation["id"])
    assert done["send_status"] == "sent" and done["send_attempts"] == 3
    assert done["send_error"] is None and done["next_send_at"] is None
    assert mailbox.refused == 2 and len(mailbox.to("anna@example.com")) == 1


def test_when_the_smtp_server_stays_down_the_email_is_failed_after_the_last_attempt(
    client: TestClient,
    db_session: Session,
    world: World,
    tenant: Tenant,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the configured SMTP port where nothing listens, and three attempts allowed
    monkeypatch.setenv("OPENCX_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("OPENCX_SURVEY_EMAIL_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    # when Anna is invited by email, then the invitation is stored (201) and queued
    invitation = _invite_anna_by_email(client, world, tenant)
    assert _invitations(db_session) == 1
    wait_for_jobs()
    # when the dispatcher keeps trying at each due time
    statuses = []
    for _ in range(3):
        due = _read(client, tenant, invitation["id"])
        if due["next_send_at"] is None:
            break
        dispatch_due_work(now=datetime.fromisoformat(due["next_send_at"]))
        statuses.append(_read(client, tenant, invitation["id"])["send_status"])
    # then after the third attempt it is failed, with the SMTP problem, and never tried again
    failed = _read(client, tenant, invitation["id"])
    assert statuses == ["queued", "failed"]
    assert failed["send_status"] == "failed" and failed["send_attempts"] == 3
    assert "SMTP" in failed["send_error"] and failed["next_send_at"] is None
    assert dispatch_due_work(now=NOW + timedelta(days=30)).failed == 0


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


def test_two_dispatchers_racing_send_every_invitation_exactly_once(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given 12 consenting customers, each invited by email with the send due in an hour (so the
    # jobs queued at commit find nothing due and leave all of it to the dispatchers)
    later = NOW + timedelta(hours=1)
    for number in range(12):
        customer_id = make_customer(
            db_session, world.org_id, f"Racer{number}", "en", channel="email"
        )
        service.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=world.nps_survey_id,
            data=InvitationIn(customer_id=customer_id, channel="email", send_email=True),
            now=later,
        )
    db_session.commit()
    wait_for_jobs()
    assert mailbox.messages == []
    # when two dispatchers start at the same moment
    start = threading.Barrier(2)
    reports: list[DispatchReport] = []

    def dispatcher() -> None:
        start.wait(10)
        reports.append(dispatch_due_work(now=later + timedelta(seconds=1)))

    racers = [threading.Thread(target=dispatcher) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    # then every customer got exactly one email, and the two rounds together sent 12
    recipients = sorted(r[0] for r, _ in mailbox.messages)
    assert recipients == sorted(f"racer{n}@example.com" for n in range(12))
    assert sum(r.sent for r in reports) == 12 and len(reports) == 2
    db_session.expire_all()
    statuses = db_session.scalars(select(SurveyInvitation.send_status)).all()
    assert statuses == [EmailSendStatus.sent] * 12


def test_the_send_due_command_sends_what_no_job_sent_and_the_late_job_sends_nothing(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given both job workers busy, so the job queued for Anna's email waits (after a restart it
    # would be gone altogether)
    release = threading.Event()
    blockers = [jobs._pool().submit(release.wait, 30) for _ in range(2)]
    try:
        invite(db_session, world, world.anna_id, send_email=True)
        # when the operator runs `opencx surveys send-due`
        result = CliRunner().invoke(app, ["surveys", "send-due"])
    finally:
        release.set()
    for blocker in blockers:
        blocker.result(timeout=30)
    # then the email went out, and the late job found it sent and sent nothing
    assert result.exit_code == 0, result.output
    assert "1 emails sent" in result.output
    wait_for_jobs()
    assert len(mailbox.to("anna@example.com")) == 1


def test_the_server_sends_due_emails_by_itself_every_interval(
    db_session: Session, world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a server dispatching due survey work every second, and no free job worker, so only
    # the dispatcher can send Anna's queued email
    monkeypatch.setenv("OPENCX_SURVEY_DISPATCH_SECONDS", "1")
    get_settings.cache_clear()
    release = threading.Event()
    blockers = [jobs._pool().submit(release.wait, 60) for _ in range(2)]
    try:
        invite(db_session, world, world.anna_id, send_email=True)
        # when the server runs for a while
        with TestClient(create_app()):
            deadline = time.monotonic() + 30
            while not mailbox.messages and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        release.set()
    for blocker in blockers:
        blocker.result(timeout=30)
    wait_for_jobs()
    # then the email went out, once
    assert len(mailbox.to("anna@example.com")) == 1


def test_an_email_whose_consent_was_withdrawn_while_queued_is_failed_not_sent(
    db_session: Session, world: World, mailbox: Mailbox
) -> None:
    # given Jane's email queued but not yet sent (the job workers are busy)
    release = threading.Event()
    blockers = [jobs._pool().submit(release.wait, 60) for _ in range(2)]
    try:
        invite(db_session, world, world.jane_id, send_email=True)
        # when she withdraws her survey consent before it goes out
        customers.record_consent(
            db_session,
            org_id=world.org_id,
            customer_id=world.jane_id,
            consent=ConsentIn(purpose="surveys", channel="any", status="withdrawn", source="call"),
        )
        db_session.commit()
        report = dispatch_due_work()
    finally:
        release.set()
    for blocker in blockers:
        blocker.result(timeout=30)
    wait_for_jobs()
    # then nothing is sent, and the invitation is failed at once with the reason
    assert report.failed == 1 and mailbox.messages == []
    db_session.expire_all()
    invitation = db_session.scalars(select(SurveyInvitation)).one()
    assert invitation.send_status is EmailSendStatus.failed and invitation.send_attempts == 1
    assert "consent" in (invitation.send_error or "")
