"""Text no database can store is refused with 422 naming where it was, and nothing is written."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.journeys.models import Touchpoint
from tests.conftest import Tenant

TOUCHPOINT = {
    "key": "checkout",
    "name": "Checkout",
    "stage": "purchase",
    "channel": "web",
    "is_online": True,
    "department": "sales",
}


def test_nul_character_in_a_json_body_is_a_422_naming_the_field(
    client: TestClient, tenant: Tenant, db_session: Session
) -> None:
    body = (
        '{"touchpoints": ['
        + ",".join(
            [
                '{"key": "ok", "name": "Ok", "stage": "use", "channel": "web", "is_online": true, "department": "sales"}',
                '{"key": "bad", "name": "A\\u0000B", "stage": "use", "channel": "web", "is_online": true, "department": "sales"}',
            ]
        )
        + "]}"
    )
    response = client.post(
        "/api/v1/touchpoints",
        content=body,
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "touchpoints", 1, "name"]
    assert db_session.scalar(select(func.count(Touchpoint.id))) == 0


def test_lone_surrogate_is_refused_but_an_emoji_pair_is_stored(
    client: TestClient, tenant: Tenant
) -> None:
    headers = {**tenant.headers, "content-type": "application/json"}
    lone = '{"touchpoints": [{"key": "a", "name": "x\\ud800", "stage": "use", "channel": "web", "is_online": true, "department": "sales"}]}'
    assert client.post("/api/v1/touchpoints", content=lone, headers=headers).status_code == 422
    pair = '{"touchpoints": [{"key": "a", "name": "smile \\ud83d\\ude00", "stage": "use", "channel": "web", "is_online": true, "department": "sales"}]}'
    response = client.post("/api/v1/touchpoints", content=pair, headers=headers)
    assert response.status_code in (200, 201), response.text
    assert "\U0001f600" in client.get("/api/v1/touchpoints", headers=tenant.headers).text


def test_nul_in_a_query_string_is_a_422(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/customers?q=ab%00c", headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_nul_in_a_login_form_is_a_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/login",
        content="email=a%00b%40x.example&password=x&csrf_token=y",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
