"""WhatsApp Cloud API and Telegram webhooks: signed payloads become conversations, others are refused."""

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
from opencx.settings import get_settings
from tests.conftest import Tenant

APP_SECRET = "meta-app-secret-for-tests"
TELEGRAM_TOKEN = "telegram-secret-token-for-tests"
TIMESTAMP = 1_764_000_000  # 2025-11-24T16:00:00Z


@pytest.fixture
def webhook_secrets(settings_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCX_WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("OPENCX_WHATSAPP_VERIFY_TOKEN", "verify-me")
    monkeypatch.setenv("OPENCX_TELEGRAM_SECRET_TOKEN", TELEGRAM_TOKEN)
    get_settings.cache_clear()


def _whatsapp(message_id: str, text: str, wa_id: str = "31612345678") -> bytes:
    payload: dict[str, Any] = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": "Anna de Vries"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": message_id,
                                    "timestamp": str(TIMESTAMP),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def _signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "content-type": "application/json"}


def _counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Customer, Conversation, Message)
    )


def test_a_signed_whatsapp_message_becomes_a_conversation_of_the_customer_by_phone(
    client: TestClient, db_session: Session, tenant: Tenant, webhook_secrets: None
) -> None:
    url = f"/api/v1/channels/whatsapp/{tenant.slug}"
    body = _whatsapp("wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTdE", "Waar blijft mijn bank?")
    # when Meta posts a signed message
    response = client.post(url, content=body, headers=_signed(body))
    # then it is stored in a new WhatsApp conversation of a customer found by phone
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1
    (conversation_id,) = response.json()["conversation_ids"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert detail["channel"] == "whatsapp"
    (message,) = detail["messages"]
    assert message["body"] == "Waar blijft mijn bank?"
    assert message["address"] == "+31612345678"
    assert message["sent_at"].startswith("2025-11-24T16:00:00")
    customer = client.get(f"/api/v1/customers/{detail['customer_id']}", headers=tenant.headers)
    assert customer.json()["customer"]["first_name"] == "Anna"
    # when Meta retries the same webhook, then it is a duplicate
    again = client.post(url, content=body, headers=_signed(body))
    assert again.json() == {
        "received": 1,
        "stored": 0,
        "duplicates": 1,
        "conversation_ids": [conversation_id],
    }
    # and the next message continues the same conversation
    follow = _whatsapp("wamid.second", "Hallo?")
    assert client.post(url, content=follow, headers=_signed(follow)).json()["conversation_ids"] == [
        conversation_id
    ]
    assert _counts(db_session) == (1, 1, 2)


def test_bad_signatures_are_401_and_store_nothing(
    client: TestClient, db_session: Session, tenant: Tenant, webhook_secrets: None
) -> None:
    wa_url = f"/api/v1/channels/whatsapp/{tenant.slug}"
    body = _whatsapp("wamid.x", "hallo")
    tampered = body.replace(b"hallo", b"HALLO")
    for headers, content in [
        ({}, body),
        (_signed(body, secret="wrong-secret"), body),
        (_signed(body), tampered),
        ({"X-Hub-Signature-256": "sha256=zz"}, body),
    ]:
        response = client.post(wa_url, content=content, headers=headers)
        assert response.status_code == 401, response.text
    tg_url = f"/api/v1/channels/telegram/{tenant.slug}"
    update = json.dumps(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": TIMESTAMP,
                "chat": {"id": 7},
                "from": {"id": 7, "first_name": "Piotr"},
                "text": "hej",
            },
        }
    )
    for token in (None, "wrong"):
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        assert client.post(tg_url, content=update, headers=headers).status_code == 401
    assert _counts(db_session) == (0, 0, 0)
    # and a signed but broken payload is 422 naming the field, also storing nothing
    broken = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "messages": [
                                    {"from": "316", "id": "w", "timestamp": "soon", "type": "text"}
                                ]
                            }
                        }
                    ]
                }
            ],
        }
    ).encode()
    response = client.post(wa_url, content=broken, headers=_signed(broken))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "timestamp"
    assert _counts(db_session) == (0, 0, 0)


def test_whatsapp_subscription_handshake(
    client: TestClient, tenant: Tenant, webhook_secrets: None
) -> None:
    url = f"/api/v1/channels/whatsapp/{tenant.slug}"
    ok = client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me",
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    assert wrong.status_code == 401


def test_a_telegram_update_becomes_a_conversation_and_bots_and_other_updates_are_ignored(
    client: TestClient, db_session: Session, tenant: Tenant, webhook_secrets: None
) -> None:
    url = f"/api/v1/channels/telegram/{tenant.slug}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_TOKEN}
    update = {
        "update_id": 10000,
        "message": {
            "message_id": 1365,
            "date": TIMESTAMP,
            "chat": {"id": 1111111, "type": "private"},
            "from": {
                "id": 1111111,
                "is_bot": False,
                "first_name": "Piotr",
                "last_name": "Nowak",
                "language_code": "pl",
            },
            "text": "Dzień dobry, gdzie jest moja paczka?",
        },
    }
    response = client.post(url, json=update, headers=headers)
    assert response.status_code == 200, response.text
    (conversation_id,) = response.json()["conversation_ids"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert detail["channel"] == "telegram"
    assert detail["messages"][0]["channel_message_id"] == "1111111:1365"
    customer = client.get(
        f"/api/v1/customers/{detail['customer_id']}", headers=tenant.headers
    ).json()
    assert customer["customer"]["language"] == "pl"
    assert [
        (i["kind"], i["namespace"], i["value"]) for i in customer["customer"]["identities"]
    ] == [("social", "telegram", "1111111")]
    bot = {
        **update,
        "message": {**update["message"], "message_id": 2, "from": {"id": 9, "is_bot": True}},
    }
    edited = {"update_id": 10001, "edited_message": update["message"]}
    for other in (bot, edited):
        assert client.post(url, json=other, headers=headers).json()["received"] == 0
    assert _counts(db_session) == (1, 1, 1)


def test_an_unconfigured_channel_or_unknown_organization_is_404(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, webhook_secrets: None
) -> None:
    body = _whatsapp("wamid.y", "hi")
    assert (
        client.post(
            "/api/v1/channels/whatsapp/nope", content=body, headers=_signed(body)
        ).status_code
        == 404
    )
    monkeypatch.setenv("OPENCX_WHATSAPP_APP_SECRET", "")
    get_settings.cache_clear()
    response = client.post(
        f"/api/v1/channels/whatsapp/{tenant.slug}", content=body, headers=_signed(body, secret="")
    )
    assert response.status_code == 404
