"""Per-organization channel settings: set by API or page, secrets masked, the environment as fallback."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.settings import get_settings
from tests.channels.test_meta import configure
from tests.conftest import PASSWORD, Tenant, login


def _channel(settings: list[dict[str, object]], channel: str) -> dict[str, object]:
    return next(s for s in settings if s["channel"] == channel)


def _fields(channel: dict[str, object]) -> dict[str, dict[str, object]]:
    return {f["name"]: f for f in channel["fields"]}  # type: ignore[attr-defined, index]


def test_settings_are_stored_per_organization_and_secrets_never_come_back(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # when an admin sets Messenger's secret and token
    saved = configure(
        client,
        tenant,
        "messenger",
        app_secret="abcdefghijklmnop-SECRET-wxyz",
        access_token="EAAG-token-1234567890-9876",
        api_base_url="https://graph.example.com/",
    )
    # then the answer shows where the webhook is, that it is on, and secrets only masked
    assert saved["webhook_path"] == f"/api/v1/channels/messenger/{tenant.slug}"
    assert saved["receives"] is True and saved["sends"] is True
    fields = _fields(saved)
    assert fields["app_secret"]["value"] == "…wxyz"
    assert fields["access_token"]["value"] == "…9876"
    assert fields["api_base_url"] == {
        "name": "api_base_url",
        "label": "Graph API base URL",
        "secret": False,
        "value": "https://graph.example.com",
        "is_set": True,
        "source": "organization",
    }
    assert fields["api_version"]["source"] == "default"
    listed = client.get("/api/v1/channel-settings", headers=tenant.headers)
    assert "SECRET" not in listed.text and "EAAG-token" not in listed.text
    # and a field left out stays, null clears
    configure(client, tenant, "messenger", access_token=None)  # type: ignore[arg-type]
    after = _fields(
        _channel(client.get("/api/v1/channel-settings", headers=tenant.headers).json(), "messenger")
    )
    assert after["app_secret"]["is_set"] is True and after["access_token"]["is_set"] is False
    # and the other organization has none of it
    other = _channel(
        client.get("/api/v1/channel-settings", headers=other_tenant.headers).json(), "messenger"
    )
    assert other["receives"] is False
    assert all(f["source"] in ("default", "unset") for f in other["fields"])  # type: ignore[attr-defined, index]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"channel": "email", "values": {}}, "settings exist for"),
        ({"channel": "whatsapp", "values": {"bot_token": "x"}}, "values.bot_token: not a setting"),
        (
            {"channel": "telegram", "values": {"api_base_url": "ftp://x"}},
            "values.api_base_url: must be an http",
        ),
        (
            {"channel": "voice", "values": {"signing_secret": "two words"}},
            "values.signing_secret: must not contain spaces",
        ),
    ],
)
def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    client: TestClient, tenant: Tenant, body: dict[str, object], reason: str
) -> None:
    before = client.get("/api/v1/channel-settings", headers=tenant.headers).json()
    response = client.put("/api/v1/channel-settings", headers=tenant.headers, json=body)
    assert response.status_code == 422
    assert reason in response.text
    assert client.get("/api/v1/channel-settings", headers=tenant.headers).json() == before


def test_the_environment_stays_the_fallback_and_the_organization_wins(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the server-wide WhatsApp secret of before per-organization settings
    monkeypatch.setenv("OPENCX_WHATSAPP_APP_SECRET", "server-wide-app-secret-0000")
    get_settings.cache_clear()
    whatsapp = _channel(
        client.get("/api/v1/channel-settings", headers=tenant.headers).json(), "whatsapp"
    )
    assert whatsapp["receives"] is True
    assert _fields(whatsapp)["app_secret"]["source"] == "server"
    # when the organization sets its own, then its own is in effect
    own = configure(client, tenant, "whatsapp", app_secret="organization-app-secret-1111")
    assert _fields(own)["app_secret"] == {
        "name": "app_secret",
        "label": "App secret (checks X-Hub-Signature-256)",
        "secret": True,
        "value": "…1111",
        "is_set": True,
        "source": "organization",
    }


def test_admins_edit_channels_on_the_settings_page_and_agents_cannot(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    login(client, tenant.admin_email)
    page = client.get("/settings/channels")
    assert page.status_code == 200
    assert f"/api/v1/channels/instagram/{tenant.slug}" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    # when the admin saves Telegram's secret and bot token
    saved = client.post(
        "/settings/channels/telegram",
        data={
            "csrf_token": token,
            "secret_token": "tg-secret-token-abcd",
            "bot_token": "123456:bot-token-wxyz",
            "api_base_url": "",
        },
    )
    assert saved.status_code == 200 and "Telegram settings saved" in saved.text
    assert "tg-secret-token-abcd" not in saved.text and "…abcd" in saved.text
    # when saved again with the secret fields left empty, then the secrets stay
    client.post("/settings/channels/telegram", data={"csrf_token": token, "api_base_url": ""})
    telegram = _channel(
        client.get("/api/v1/channel-settings", headers=tenant.headers).json(), "telegram"
    )
    assert telegram["receives"] is True and telegram["sends"] is True
    # and a bad value is 422 naming it, changing nothing
    bad = client.post(
        "/settings/channels/telegram",
        data={"csrf_token": token, "api_base_url": "not a url"},
    )
    assert bad.status_code == 422 and "values.api_base_url" in bad.text
    # and "clear" removes a secret
    client.post(
        "/settings/channels/telegram",
        data={"csrf_token": token, "clear_bot_token": "1", "api_base_url": ""},
    )
    telegram = _channel(
        client.get("/api/v1/channel-settings", headers=tenant.headers).json(), "telegram"
    )
    assert telegram["sends"] is False and telegram["receives"] is True
    # given an agent, when they post the form, then 403 and nothing changes
    auth_service.create_user(
        db_session,
        org_id=tenant.org_id,
        email="agent@acme.example",
        name="Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    client.cookies.clear()
    login(client, "agent@acme.example")
    page = client.get("/settings/channels")
    assert page.status_code == 200 and "Only admins change channel settings." in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post(
        "/settings/channels/telegram", data={"csrf_token": token, "clear_secret_token": "1"}
    )
    assert refused.status_code == 403
    telegram = _channel(
        client.get("/api/v1/channel-settings", headers=tenant.headers).json(), "telegram"
    )
    assert telegram["receives"] is True
