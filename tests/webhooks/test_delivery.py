"""Response webhooks against a real HTTP server on localhost: signed, retried, isolated, never blocking."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.db import session_scope
from opencx.surveys import service as surveys
from opencx.surveys.models import SurveyResponse
from opencx.webhooks import service
from opencx.webhooks.models import DeliveryStatus, WebhookDelivery
from opencx.webhooks.schemas import WebhookIn
from opencx.webhooks.tasks import deliver_due_webhooks
from tests.conftest import Tenant, make_tenant
from tests.surveys.conftest import World, invite
from tests.webhooks.conftest import Receiver

SECRET = "a-receivers-secret-0123456789"
EVENTS = ["survey.response.created", "survey.response.updated"]


def _register(session: Session, org_id: int, url: str) -> int:
    webhook = service.create_webhook(
        session, org_id=org_id, data=WebhookIn(url=url, event_types=EVENTS, secret=SECRET)
    )
    session.commit()
    return webhook.id


def _deliveries(org_id: int) -> list[WebhookDelivery]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.org_id == org_id)
                .order_by(WebhookDelivery.id)
            )
        )


def _eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for the background job to record what it did."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the background delivery did not finish in time")
        time.sleep(0.05)


def _answer(session: Session, token: str, score: int, why: str = "the parcel was late") -> None:
    surveys.record_answers(
        session,
        token=token,
        form={"shown": ["score", "why"], "q_score": [str(score)], "q_why": [why]},
    )
    session.commit()


def test_a_response_is_posted_signed_with_its_source(
    db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a webhook for survey responses and an invitation crediting an agent's team
    _register(db_session, world.org_id, receiver.url)
    token = invite(db_session, world, world.anna_id, team="Service NL")

    # when the customer answers (and the transaction commits)
    _answer(db_session, token, 9, "quick and kind")

    # then the receiver gets one POST whose signature verifies with the secret
    (request,) = receiver.wait_for(1)
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-opencx-signature"], expected)
    assert request.headers["x-opencx-event"] == "survey.response.created"
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["x-opencx-timestamp"]) - time.time()) < 60
    payload = json.loads(request.body)
    data = payload["data"]
    assert payload["event"] == "survey.response.created"
    assert data["score"] == 9 and data["answers"]["why"] == "quick and kind"
    assert data["customer_id"] == world.anna_id
    assert data["survey"] == {"id": world.nps_survey_id, "name": "After delivery", "kind": "nps"}
    assert data["source"]["team"] == "Service NL" and data["source"]["channel"] == "email"
    # and a tampered body would not verify
    forged = hmac.new(SECRET.encode(), request.body + b" ", hashlib.sha256).hexdigest()
    assert request.headers["x-opencx-signature"] != "sha256=" + forged
    # and the delivery is recorded as delivered after one attempt
    _eventually(lambda: _deliveries(world.org_id)[0].status is DeliveryStatus.delivered)
    (delivery,) = _deliveries(world.org_id)
    assert delivery.attempts == 1 and delivery.last_status_code == 204
    assert request.headers["x-opencx-delivery"] == delivery.delivery_key


def test_a_changed_answer_fires_an_update_event(
    db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a webhook and a first answer that was delivered
    _register(db_session, world.org_id, receiver.url)
    token = invite(db_session, world, world.anna_id)
    _answer(db_session, token, 4)
    receiver.wait_for(1)
    # when the customer changes the score with the same link
    _answer(db_session, token, 8)
    # then the second POST is an update of the same response, with a new delivery id
    first, second = receiver.wait_for(2)
    assert second.headers["x-opencx-event"] == "survey.response.updated"
    assert json.loads(second.body)["data"]["score"] == 8
    assert (
        json.loads(first.body)["data"]["response_id"]
        == json.loads(second.body)["data"]["response_id"]
    )
    assert first.headers["x-opencx-delivery"] != second.headers["x-opencx-delivery"]


def test_failed_deliveries_are_retried_after_the_backoff_until_a_2xx(
    db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a receiver that fails its first two requests
    receiver.fail_first = 2
    _register(db_session, world.org_id, receiver.url)
    token = invite(db_session, world, world.piotr_id)

    # when a response is recorded, the immediate attempt fails
    _answer(db_session, token, 3)
    receiver.wait_for(1)
    _eventually(lambda: _deliveries(world.org_id)[0].last_status_code == 500)
    (delivery,) = _deliveries(world.org_id)
    assert delivery.status is DeliveryStatus.pending and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500"
    first_try = delivery.last_attempt_at
    assert first_try is not None
    assert delivery.next_attempt_at == first_try + timedelta(seconds=30)

    # then nothing is retried before the 30 s backoff has passed
    assert deliver_due_webhooks(now=first_try + timedelta(seconds=29)).attempted == 0
    # and at 30 s it is retried, fails again, and waits 2 minutes
    second = deliver_due_webhooks(now=first_try + timedelta(seconds=30))
    assert (second.attempted, second.retrying) == (1, 1)
    (delivery,) = _deliveries(world.org_id)
    assert delivery.next_attempt_at == first_try + timedelta(seconds=30, minutes=2)
    assert deliver_due_webhooks(now=first_try + timedelta(minutes=2)).attempted == 0
    # and the third attempt gets a 2xx: delivered, and no more retries
    third = deliver_due_webhooks(now=first_try + timedelta(seconds=30, minutes=2))
    assert (third.attempted, third.delivered) == (1, 1)
    assert deliver_due_webhooks(now=first_try + timedelta(days=2)).attempted == 0
    (delivery,) = _deliveries(world.org_id)
    assert delivery.status is DeliveryStatus.delivered and delivery.attempts == 3
    requests = receiver.wait_for(3)
    assert len(requests) == 3
    # the same delivery id and the same signed body every time, so receivers can drop repeats
    assert len({r.headers["x-opencx-delivery"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1


def test_a_delivery_fails_for_good_after_the_last_backoff(
    db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a receiver that always fails
    receiver.fail_first = 100
    _register(db_session, world.org_id, receiver.url)
    _answer(db_session, invite(db_session, world, world.jane_id), 10)
    receiver.wait_for(1)
    _eventually(lambda: _deliveries(world.org_id)[0].attempts == 1)
    # when the dispatcher runs each time the next attempt is due
    for _ in range(len(service.BACKOFF)):
        (delivery,) = _deliveries(world.org_id)
        assert delivery.next_attempt_at is not None
        deliver_due_webhooks(now=delivery.next_attempt_at)
    # then after 30 s, 2 min, 10 min, 1 h and 6 h of waiting it is failed, with its last error
    (delivery,) = _deliveries(world.org_id)
    assert delivery.status is DeliveryStatus.failed
    assert delivery.attempts == 1 + len(service.BACKOFF) == 6
    assert delivery.last_error == "HTTP 500" and delivery.next_attempt_at is None
    assert deliver_due_webhooks(now=delivery.last_attempt_at + timedelta(days=30)).attempted == 0
    assert len(receiver.requests) == 6


def test_another_organizations_webhooks_never_receive(
    db_session: Session, world: World, receiver: Receiver, other_receiver: Receiver
) -> None:
    # given organization B with its own webhook, and organization A with one
    other = make_tenant(db_session, "globex")
    _register(db_session, other.org_id, other_receiver.url)
    _register(db_session, world.org_id, receiver.url)
    # when A's customer answers and every due delivery is sent
    _answer(db_session, invite(db_session, world, world.anna_id), 2)
    receiver.wait_for(1)
    deliver_due_webhooks(now=_deliveries(world.org_id)[0].created_at + timedelta(days=1))
    # then only A's receiver heard of it; B has no delivery at all
    assert other_receiver.requests == []
    assert _deliveries(other.org_id) == []


def test_a_hanging_receiver_neither_blocks_nor_loses_the_answer(
    client: TestClient, db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a webhook whose receiver hangs on every request
    receiver.proceed.clear()
    _register(db_session, world.org_id, receiver.url)
    token = invite(db_session, world, world.jane_id)

    # when the customer submits the public form
    page = client.post(
        f"/s/{token}", data={"shown": ["score", "why"], "q_score": "9", "q_why": "fine"}
    )

    # then the answer is saved and thanked for while the receiver still holds the delivery
    receiver.wait_for(1)
    assert page.status_code == 200 and "Thank you" in page.text
    with session_scope() as session:
        saved = session.scalar(select(SurveyResponse).where(SurveyResponse.org_id == world.org_id))
        assert saved is not None and saved.score == 9
    (delivery,) = _deliveries(world.org_id)
    assert delivery.status is DeliveryStatus.pending and delivery.attempts == 1
    receiver.proceed.set()
    _eventually(lambda: _deliveries(world.org_id)[0].status is DeliveryStatus.delivered)


def test_an_unreachable_receiver_keeps_the_delivery_for_later(
    db_session: Session, world: World
) -> None:
    # given a webhook to a port nobody listens on
    _register(db_session, world.org_id, "http://127.0.0.1:9/nobody-here")
    # when a response is recorded
    _answer(db_session, invite(db_session, world, world.anna_id), 6)
    # then the response is kept and the delivery waits for its retry with the error noted
    _eventually(lambda: _deliveries(world.org_id)[0].attempts == 1)
    _eventually(lambda: _deliveries(world.org_id)[0].last_error != "")
    (delivery,) = _deliveries(world.org_id)
    assert delivery.status is DeliveryStatus.pending
    assert "ConnectError" in delivery.last_error
    with session_scope() as session:
        assert session.scalar(select(SurveyResponse.score)) == 6


def test_an_organization_without_webhooks_writes_no_outbox(
    db_session: Session, world: World
) -> None:
    _answer(db_session, invite(db_session, world, world.anna_id), 9)
    assert _deliveries(world.org_id) == []


def test_webhook_api_shows_the_secret_once_and_names_bad_fields(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # when a webhook is registered without a secret
    created = client.post(
        "/api/v1/webhooks",
        headers=tenant.headers,
        json={"url": "https://crm.example/hooks", "event_types": ["survey.response.created"]},
    )
    # then the generated secret is in that answer only
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    listed = client.get("/api/v1/webhooks", headers=tenant.headers)
    assert [w["url"] for w in listed.json()] == ["https://crm.example/hooks"]
    assert secret not in listed.text
    # and a bad URL or event type is a 422 naming the field, storing nothing
    for body, field_name in [
        ({"url": "ftp://crm.example/x", "event_types": EVENTS}, "url"),
        ({"url": "https://", "event_types": EVENTS}, "url"),
        ({"url": "https://crm.example", "event_types": ["order.placed"]}, "event_types"),
        ({"url": "https://crm.example", "event_types": EVENTS, "secret": "short"}, "secret"),
    ]:
        bad = client.post("/api/v1/webhooks", headers=tenant.headers, json=body)
        assert bad.status_code == 422, bad.text
        assert bad.json()["detail"][0]["loc"][-1] == field_name
    assert len(client.get("/api/v1/webhooks", headers=tenant.headers).json()) == 1
    # and another organization cannot delete it; its owner can
    webhook_id = created.json()["id"]
    assert (
        client.delete(f"/api/v1/webhooks/{webhook_id}", headers=other_tenant.headers).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/webhooks/{webhook_id}", headers=tenant.headers).status_code == 204
    )
    assert client.get("/api/v1/webhooks", headers=tenant.headers).json() == []


def test_an_inactive_webhook_gets_nothing(db_session: Session, world: World) -> None:
    service.create_webhook(
        db_session,
        org_id=world.org_id,
        data=WebhookIn(url="https://crm.example/h", event_types=EVENTS, active=False),
    )
    db_session.commit()
    _answer(db_session, invite(db_session, world, world.anna_id), 9)
    assert _deliveries(world.org_id) == []
