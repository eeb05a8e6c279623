"""Login, CSRF, throttling and API keys, through the real HTTP app."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD, Tenant, login


def test_login_with_right_password_opens_the_overview(client: TestClient, tenant: Tenant) -> None:
    # given a user; when they sign in through the form
    login(client, tenant.admin_email)
    # then the overview greets them
    page = client.get("/")
    assert page.status_code == 200
    assert "acme admin" in page.text


def test_pages_redirect_to_login_when_signed_out(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_login_without_csrf_token_is_refused(client: TestClient, tenant: Tenant) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"email": tenant.admin_email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_requires_the_session_csrf_token(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.admin_email)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").status_code == 200


def test_repeated_wrong_passwords_are_throttled(client: TestClient, tenant: Tenant) -> None:
    # given five failed attempts
    for _ in range(5):
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={"email": tenant.admin_email, "password": "wrong-password", "csrf_token": token},
        )
        assert response.status_code == 401
    # when the right password comes next, then it is still refused for the window
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": tenant.admin_email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429


def test_api_key_authenticates_and_revoked_key_does_not(client: TestClient, tenant: Tenant) -> None:
    me = client.get("/api/v1/me", headers=tenant.headers)
    assert me.status_code == 200
    assert me.json()["org_id"] == tenant.org_id
    keys = client.get("/api/v1/api-keys", headers=tenant.headers).json()
    # the listing never shows a secret
    assert all("secret" not in k for k in keys)
    client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=tenant.headers)
    assert client.get("/api/v1/me", headers=tenant.headers).status_code == 401


def test_missing_or_wrong_api_key_is_401(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer ocx_nope"}).status_code == 401


def test_api_key_secret_is_stored_hashed(
    client: TestClient, tenant: Tenant, db_session: Session
) -> None:
    from sqlalchemy import select

    from opencx.auth.models import ApiKey

    hashes = list(db_session.scalars(select(ApiKey.key_hash)))
    assert tenant.api_key not in hashes
    assert all(len(h) == 64 for h in hashes)
