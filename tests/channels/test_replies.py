"""Agents' replies go out through each channel's HTTP API, here a real local server that records them."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.channels.conftest import ChannelApiServer
from tests.channels.test_meta import configure, message_event, meta_webhook, signed
from tests.conftest import Tenant

APP_SECRET = "meta-app-secret-for-replies"
TOKEN = "EAAG-page-token-0123456789"


def _inbound_whatsapp(client: TestClient, tenant: Tenant) -> int:
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"value": {
                "contacts": [{"wa_id": "31612345678", "profile": {"name": "Anna"}}],
                "messages": [{"from": "31612345678", "id": "wamid.in1", "timestamp": "1764000000",
                              "type": "text", "text": {"body": "Waar is mijn bank?"}}],
            }}]}],
        }
    ).encode()  # fmt: skip
    response = client.post(
        f"/api/v1/channels/whatsapp/{tenant.slug}", content=body, headers=signed(body, APP_SECRET)
    )
    assert response.status_code == 200, response.text
    return int(response.json()["conversation_ids"][0])


def _reply(
    client: TestClient, tenant: Tenant, conversation_id: int, text: str
) -> dict[str, object]:
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/replies",
        headers=tenant.headers,
        json={"body": text},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_whatsapp_reply_is_posted_to_the_cloud_api_with_the_bearer_token(
    client: TestClient, tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    # given WhatsApp settings pointing at the local server, and a customer's message
    configure(
        client, tenant, "whatsapp",
        app_secret=APP_SECRET, access_token=TOKEN, phone_number_id="106540352242922",
        api_base_url=channel_api.url, api_version="v21.0",
    )  # fmt: skip
    conversation_id = _inbound_whatsapp(client, tenant)
    channel_api.default_answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "31612345678", "wa_id": "31612345678"}],
        "messages": [{"id": "wamid.OUT1"}],
    }
    # when an agent replies
    reply = _reply(client, tenant, conversation_id, "Hij komt morgen.")
    # then the Cloud API got exactly this request, and the reply keeps the wamid
    (request,) = channel_api.requests
    assert request.path == "/v21.0/106540352242922/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "31612345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Hij komt morgen."},
    }
    assert reply["channel_message_id"] == "wamid.OUT1"
    assert reply["delivery_error"] is None


def test_messenger_and_instagram_replies_use_the_send_api_as_a_response(
    client: TestClient, tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    for channel, obj in (("messenger", "page"), ("instagram", "instagram")):
        configure(
            client, tenant, channel,
            app_secret=APP_SECRET, access_token=f"{TOKEN}-{channel}", api_base_url=channel_api.url,
        )  # fmt: skip
        body = meta_webhook(obj, message_event("24680", f"m_{channel}", "Hallo"))
        inbound = client.post(
            f"/api/v1/channels/{channel}/{tenant.slug}",
            content=body,
            headers=signed(body, APP_SECRET),
        ).json()
        channel_api.default_answer = {"recipient_id": "24680", "message_id": f"m_out_{channel}"}
        # when an agent replies on the conversation
        reply = _reply(client, tenant, inbound["conversation_ids"][0], f"Dank je ({channel})")
        # then the Send API got the recipient's id as a RESPONSE, with the page token
        request = channel_api.requests[-1]
        assert request.path == "/v21.0/me/messages"
        assert request.headers["authorization"] == f"Bearer {TOKEN}-{channel}"
        assert request.body == {
            "recipient": {"id": "24680"},
            "messaging_type": "RESPONSE",
            "message": {"text": f"Dank je ({channel})"},
        }
        assert reply["channel_message_id"] == f"m_out_{channel}"
    assert len(channel_api.requests) == 2


def test_a_telegram_reply_is_sent_with_send_message_and_threads_like_inbound_ids(
    client: TestClient, tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    configure(
        client, tenant, "telegram",
        secret_token="tg-secret", bot_token="123456:ABC-bot-token", api_base_url=channel_api.url,
    )  # fmt: skip
    update = {
        "update_id": 1,
        "message": {"message_id": 5, "date": 1764000000, "chat": {"id": 1111111},
                    "from": {"id": 1111111, "first_name": "Piotr"}, "text": "Gdzie paczka?"},
    }  # fmt: skip
    inbound = client.post(
        f"/api/v1/channels/telegram/{tenant.slug}",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret"},
    ).json()
    channel_api.default_answer = {
        "ok": True,
        "result": {"message_id": 6, "chat": {"id": 1111111}, "date": 1764000100, "text": "Jutro."},
    }
    reply = _reply(client, tenant, inbound["conversation_ids"][0], "Jutro.")
    (request,) = channel_api.requests
    assert request.path == "/bot123456:ABC-bot-token/sendMessage"
    assert "authorization" not in request.headers
    assert request.body == {"chat_id": 1111111, "text": "Jutro."}
    assert reply["channel_message_id"] == "1111111:6"


def test_a_refused_or_impossible_send_keeps_the_reply_with_the_reason(
    client: TestClient, tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    # given WhatsApp receiving but with no token to send yet
    configure(client, tenant, "whatsapp", app_secret=APP_SECRET, api_base_url=channel_api.url)
    conversation_id = _inbound_whatsapp(client, tenant)
    # when an agent replies, then it is kept with a delivery error naming what is missing
    unconfigured = _reply(client, tenant, conversation_id, "Eerste poging")
    assert unconfigured["delivery_error"] == (
        "whatsapp cannot send: set access_token, phone_number_id in Settings -> Channels"
    )
    assert channel_api.requests == []
    # given a token the API refuses (Meta's error shape)
    configure(client, tenant, "whatsapp", access_token="expired-token-000", phone_number_id="1")
    channel_api.answers.append(
        (401, {"error": {"message": "Error validating access token", "type": "OAuthException",
                         "code": 190}})
    )  # fmt: skip
    refused = _reply(client, tenant, conversation_id, "Tweede poging")
    assert refused["delivery_error"] == (
        "the WhatsApp Cloud API refused the message (401): Error validating access token"
    )
    assert refused["channel_message_id"] is None
    # and a server that does not answer at all is a delivery error too, the token not in it
    configure(client, tenant, "whatsapp", api_base_url="http://127.0.0.1:9")
    unreachable = _reply(client, tenant, conversation_id, "Derde poging")
    assert str(unreachable["delivery_error"]).startswith("the WhatsApp Cloud API did not answer")
    assert "expired-token" not in str(unreachable["delivery_error"])
    # and all three replies are in the conversation
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers).json()
    assert [m["body"] for m in detail["messages"] if m["direction"] == "outbound"] == [
        "Eerste poging",
        "Tweede poging",
        "Derde poging",
    ]


def test_a_reply_longer_than_the_channel_takes_is_kept_unsent(
    client: TestClient, tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    configure(
        client, tenant, "instagram",
        app_secret=APP_SECRET, access_token=TOKEN, api_base_url=channel_api.url,
    )  # fmt: skip
    body = meta_webhook("instagram", message_event("13579", "m_long", "Hi"))
    inbound = client.post(
        f"/api/v1/channels/instagram/{tenant.slug}", content=body, headers=signed(body, APP_SECRET)
    ).json()
    reply = _reply(client, tenant, inbound["conversation_ids"][0], "x" * 1001)
    assert reply["delivery_error"] == (
        "instagram takes at most 1000 characters in a message; this reply has 1001"
    )
    assert channel_api.requests == []


def test_each_organization_replies_with_its_own_token_and_base_url(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, channel_api: ChannelApiServer
) -> None:
    # given two organizations on Messenger with their own page tokens and API servers
    other_api = ChannelApiServer()
    try:
        for t, api in ((tenant, channel_api), (other_tenant, other_api)):
            configure(
                client, t, "messenger",
                app_secret=f"{t.slug}-app-secret-00", access_token=f"{t.slug}-page-token",
                api_base_url=api.url,
            )  # fmt: skip
            api.default_answer = {"recipient_id": "1", "message_id": f"m_{t.slug}"}
            body = meta_webhook("page", message_event("1357", "m_same_id", "Hallo"))
            inbound = client.post(
                f"/api/v1/channels/messenger/{t.slug}",
                content=body,
                headers=signed(body, f"{t.slug}-app-secret-00"),
            ).json()
            # when each organization's agent replies
            _reply(client, t, inbound["conversation_ids"][0], f"Antwoord van {t.slug}")
        # then each reply went to its own organization's server with its own token only
        for t, api in ((tenant, channel_api), (other_tenant, other_api)):
            (request,) = api.requests
            assert request.headers["authorization"] == f"Bearer {t.slug}-page-token"
            assert request.body["message"] == {"text": f"Antwoord van {t.slug}"}
    finally:
        other_api.close()
