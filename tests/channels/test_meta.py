"""Messenger and Instagram webhooks in Meta's format, with each organization's own app secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.conversations.models import Conversation, Message
from opencx.customers.models import Customer
from tests.conftest import Tenant

TIMESTAMP_MS = 1_764_000_000_000  # 2025-11-24T16:00:00Z
PAGE_ID = "106540352242922"


def configure(client: TestClient, tenant: Tenant, channel: str, **values: str) -> dict[str, Any]:
    """Set an organization's channel settings through the API, as an admin would."""
    response = client.put(
        "/api/v1/channel-settings",
        headers=tenant.headers,
        json={"channel": channel, "values": values},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def signed(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "content-type": "application/json"}


def meta_webhook(obj: str, *events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"object": obj, "entry": [{"id": PAGE_ID, "time": TIMESTAMP_MS, "messaging": list(events)}]}
    ).encode()


def message_event(sender: str, mid: str, text: str | None = None, **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"mid": mid, **message}
    if text is not None:
        body["text"] = text
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": TIMESTAMP_MS,
        "message": body,
    }


def _counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Customer, Conversation, Message)
    )


@pytest.mark.parametrize(("channel", "obj"), [("messenger", "page"), ("instagram", "instagram")])
def test_a_signed_message_becomes_a_conversation_of_the_customer_by_psid(
    client: TestClient, db_session: Session, tenant: Tenant, channel: str, obj: str
) -> None:
    # given the organization's app secret for the channel
    configure(client, tenant, channel, app_secret=f"{channel}-app-secret-0001")
    url = f"/api/v1/channels/{channel}/{tenant.slug}"
    body = meta_webhook(
        obj,
        message_event(
            "6945321987654321",
            "m_first",
            "Mijn bestelling is nog niet bezorgd",
            attachments=[
                {"type": "image", "payload": {"url": "https://cdn.example/photo.jpg"}},
                {"type": "fallback", "payload": {"title": "Track", "url": "https://t.example"}},
            ],
        ),
        # the page's own reply (an echo), a delivery receipt and a read receipt: ignored
        {**message_event(PAGE_ID, "m_echo", "echo", is_echo=True)},
        {"sender": {"id": "6945321987654321"}, "recipient": {"id": PAGE_ID},
         "delivery": {"mids": ["m_x"], "watermark": TIMESTAMP_MS}},
        {"sender": {"id": "6945321987654321"}, "recipient": {"id": PAGE_ID},
         "timestamp": TIMESTAMP_MS, "read": {"watermark": TIMESTAMP_MS}},
    )  # fmt: skip
    # when Meta posts it signed with that secret
    response = client.post(url, content=body, headers=signed(body, f"{channel}-app-secret-0001"))
    # then one message is stored in a new conversation on the channel
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 1 and response.json()["stored"] == 1
    (conversation_id,) = response.json()["conversation_ids"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert detail["channel"] == channel
    (message,) = detail["messages"]
    assert message["body"] == (
        "Mijn bestelling is nog niet bezorgd\n"
        "[image] https://cdn.example/photo.jpg\n"
        "[fallback] Track https://t.example"
    )
    assert message["channel_message_id"] == "m_first"
    assert message["address"] == "6945321987654321"
    assert message["sent_at"].startswith("2025-11-24T16:00:00")
    # and the customer is known by the PSID/IGSID in the channel's namespace
    customer = client.get(f"/api/v1/customers/{detail['customer_id']}", headers=tenant.headers)
    assert [
        (i["kind"], i["namespace"], i["value"]) for i in customer.json()["customer"]["identities"]
    ] == [("social", channel, "6945321987654321")]
    # when Meta redelivers the webhook, then it is stored once
    again = client.post(url, content=body, headers=signed(body, f"{channel}-app-secret-0001"))
    assert again.json()["duplicates"] == 1 and again.json()["stored"] == 0
    # and a later message continues the same conversation
    later = meta_webhook(obj, message_event("6945321987654321", "m_second", "Hallo?"))
    answer = client.post(url, content=later, headers=signed(later, f"{channel}-app-secret-0001"))
    assert answer.json()["conversation_ids"] == [conversation_id]
    assert _counts(db_session) == (1, 1, 2)


def test_bad_or_missing_signatures_are_401_and_store_nothing(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    configure(client, tenant, "messenger", app_secret="messenger-app-secret-0001")
    url = f"/api/v1/channels/messenger/{tenant.slug}"
    body = meta_webhook("page", message_event("123456", "m_1", "hallo"))
    for headers, content in [
        ({}, body),
        (signed(body, "another-secret"), body),
        (signed(body, "messenger-app-secret-0001"), body.replace(b"hallo", b"HALLO")),
        ({"X-Hub-Signature-256": "sha1=abc"}, body),
    ]:
        assert client.post(url, content=content, headers=headers).status_code == 401
    assert _counts(db_session) == (0, 0, 0)
    # and a signed payload of the wrong network is 422 naming `object`, storing nothing
    instagram = meta_webhook("instagram", message_event("123456", "m_2", "hallo"))
    response = client.post(
        url, content=instagram, headers=signed(instagram, "messenger-app-secret-0001")
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "object"
    assert _counts(db_session) == (0, 0, 0)


def test_subscription_handshake_uses_the_organizations_verify_token(
    client: TestClient, tenant: Tenant
) -> None:
    url = f"/api/v1/channels/instagram/{tenant.slug}"
    params = {"hub.mode": "subscribe", "hub.verify_token": "ig-verify", "hub.challenge": "42"}
    # given no settings, the webhook is off
    assert client.get(url, params=params).status_code == 404
    configure(
        client, tenant, "instagram", app_secret="instagram-secret-0001", verify_token="ig-verify"
    )
    ok = client.get(url, params=params)
    assert ok.status_code == 200 and ok.text == "42"
    wrong = client.get(url, params={**params, "hub.verify_token": "nope"})
    assert wrong.status_code == 401


def test_each_organization_checks_its_own_secret_and_stores_only_its_own(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two organizations with different Messenger app secrets
    configure(client, tenant, "messenger", app_secret="acme-secret-000001")
    configure(client, other_tenant, "messenger", app_secret="globex-secret-00001")
    body = meta_webhook("page", message_event("777", "m_same", "hallo"))
    # when acme's webhook body comes signed with globex's secret, then it is refused
    refused = client.post(
        f"/api/v1/channels/messenger/{tenant.slug}",
        content=body,
        headers=signed(body, "globex-secret-00001"),
    )
    assert refused.status_code == 401
    # when each gets the same message id signed with its own secret, then each stores it
    for t, secret in ((tenant, "acme-secret-000001"), (other_tenant, "globex-secret-00001")):
        response = client.post(
            f"/api/v1/channels/messenger/{t.slug}", content=body, headers=signed(body, secret)
        )
        assert response.json()["stored"] == 1
    # and each organization sees one conversation: its own
    for t in (tenant, other_tenant):
        page = client.get("/api/v1/conversations", headers=t.headers).json()
        assert page["total"] == 1
    assert _counts(db_session) == (2, 2, 2)
