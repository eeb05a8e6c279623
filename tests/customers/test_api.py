"""The customer REST API through the real app: status codes, field errors, tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant

ANN = {
    "first_name": "Ann",
    "country": "pl",
    "identities": [{"kind": "email", "value": "Ann@Example.com"}],
    "consents": [
        {
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
            "occurred_at": "2025-06-01T10:00:00Z",
            "source": "signup form",
        }
    ],
}


def create(client: TestClient, tenant: Tenant, body: dict[str, Any] = ANN) -> dict[str, Any]:
    response = client.post("/api/v1/customers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_post_creates_then_updates_the_same_customer(client: TestClient, tenant: Tenant) -> None:
    # when a customer is posted, then it is created with normalized identities and consent
    created = create(client, tenant)
    assert created["country"] == "PL"
    assert [i["value"] for i in created["identities"]] == ["ann@example.com"]
    assert [(c["purpose"], c["status"]) for c in created["consent"]] == [("marketing", "granted")]
    # when the same email comes again with more, then the profile is updated (200)
    again = client.post(
        "/api/v1/customers",
        json={"last_name": "Nowak", "identities": [{"kind": "email", "value": "ann@example.com"}]},
        headers=tenant.headers,
    )
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    assert (again.json()["first_name"], again.json()["last_name"]) == ("Ann", "Nowak")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            ANN | {"identities": [{"kind": "email", "value": "nope"}]},
            ["body", "identities", 0, "value"],
        ),
        (ANN | {"country": "Poland"}, ["body", "country"]),
        (ANN | {"identities": []}, ["body", "identities"]),
        (
            ANN | {"consents": [{"purpose": "spam", "channel": "email", "status": "granted"}]},
            ["body", "consents", 0, "purpose"],
        ),
    ],
)
def test_bad_customer_is_422_naming_the_field(
    client: TestClient, tenant: Tenant, body: dict[str, Any], loc: list[Any]
) -> None:
    response = client.post("/api/v1/customers", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert client.get("/api/v1/customers", headers=tenant.headers).json()["total"] == 0


def test_identities_of_two_customers_is_422(client: TestClient, tenant: Tenant) -> None:
    ann = create(client, tenant)
    bob = create(client, tenant, {"identities": [{"kind": "phone", "value": "+48601234567"}]})
    response = client.post(
        "/api/v1/customers",
        json={
            "identities": [
                {"kind": "email", "value": "ann@example.com"},
                {"kind": "phone", "value": "+48 601 234 567"},
            ]
        },
        headers=tenant.headers,
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "identities"]
    assert f"ids {ann['id']}, {bob['id']}" in error["msg"]


def test_list_searches_and_limits_page_size(client: TestClient, tenant: Tenant) -> None:
    ann = create(client, tenant)
    create(
        client, tenant, {"first_name": "Bob", "identities": [{"kind": "email", "value": "b@x.io"}]}
    )
    page = client.get("/api/v1/customers", params={"q": "ann@"}, headers=tenant.headers).json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == ann["id"]
    assert page["items"][0]["email"] == "ann@example.com"
    too_many = client.get("/api/v1/customers", params={"limit": 201}, headers=tenant.headers)
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]


def test_customer_360_patch_and_timeline(client: TestClient, tenant: Tenant) -> None:
    ann = create(client, tenant)
    url = f"/api/v1/customers/{ann['id']}"
    patched = client.patch(
        url, json={"city": "Gdansk", "attributes": {"tier": "gold"}}, headers=tenant.headers
    )
    assert patched.status_code == 200
    assert (patched.json()["city"], patched.json()["attributes"]) == ("Gdansk", {"tier": "gold"})
    bad = client.patch(url, json={"language": "polish"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "language"]
    view = client.get(url, headers=tenant.headers).json()
    assert view["customer"]["city"] == "Gdansk"
    assert view["customer_ids"] == [ann["id"]]
    assert [e["kind"] for e in view["timeline"]] == ["consent"]
    assert [e["kind"] for e in client.get(f"{url}/timeline", headers=tenant.headers).json()] == [
        "consent"
    ]


def test_consent_and_may_contact(client: TestClient, tenant: Tenant) -> None:
    ann = create(client, tenant)
    url = f"/api/v1/customers/{ann['id']}"
    withdrawn = client.post(
        f"{url}/consent",
        json={
            "purpose": "marketing",
            "channel": "any",
            "status": "withdrawn",
            "occurred_at": "2025-07-01T00:00:00Z",
            "source": "unsubscribe link",
        },
        headers=tenant.headers,
    )
    assert withdrawn.status_code == 201
    state = client.get(f"{url}/consent", headers=tenant.headers).json()
    assert {(s["channel"], s["status"]) for s in state} == {
        ("email", "granted"),
        ("any", "withdrawn"),
    }

    def allowed(at: str) -> bool:
        response = client.get(
            f"{url}/may-contact",
            params={"purpose": "marketing", "channel": "email", "at": at},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["allowed"])

    assert allowed("2025-06-15T00:00:00Z")
    assert not allowed("2025-07-02T00:00:00Z")
    naive = client.get(
        f"{url}/may-contact",
        params={"purpose": "marketing", "channel": "email", "at": "2025-07-02T00:00:00"},
        headers=tenant.headers,
    )
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["query", "at"]


def test_merge_export_and_erase(client: TestClient, tenant: Tenant) -> None:
    ann = create(client, tenant)
    dup = create(client, tenant, {"identities": [{"kind": "phone", "value": "+48601234567"}]})
    merged = client.post(
        f"/api/v1/customers/{ann['id']}/merge",
        json={"merged_id": dup["id"], "reason": "same phone on order"},
        headers=tenant.headers,
    )
    assert merged.status_code == 201
    assert merged.json()["merged_by"].startswith("api_key:")
    export = client.get(f"/api/v1/customers/{ann['id']}/export", headers=tenant.headers).json()
    assert export["customer_ids"] == [ann["id"], dup["id"]]
    assert {i["value"] for i in export["identities"]} == {"ann@example.com", "+48601234567"}
    erased = client.post(f"/api/v1/customers/{ann['id']}/erase", headers=tenant.headers)
    assert erased.status_code == 200
    assert erased.json()["rows_changed"]["customer_identities"] == 2
    view = client.get(f"/api/v1/customers/{ann['id']}", headers=tenant.headers).json()
    assert view["customer"]["erased_at"] is not None
    assert view["customer"]["first_name"] is None
    assert view["customer"]["identities"] == []
    # an erased profile is no longer changed
    assert (
        client.patch(
            f"/api/v1/customers/{ann['id']}", json={"city": "Gdansk"}, headers=tenant.headers
        ).status_code
        == 409
    )


def foreign_requests(customer_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    url = f"/api/v1/customers/{customer_id}"
    consent = {"purpose": "surveys", "channel": "email", "status": "granted", "source": "x"}
    return [
        ("GET", url, None),
        ("PATCH", url, {"city": "X"}),
        ("GET", f"{url}/timeline", None),
        ("GET", f"{url}/consent", None),
        ("POST", f"{url}/consent", consent),
        ("GET", f"{url}/may-contact?purpose=service&channel=email", None),
        ("POST", f"{url}/merge", {"merged_id": customer_id}),
        ("GET", f"{url}/export", None),
        ("POST", f"{url}/erase", None),
    ]


def test_unknown_and_other_tenant_ids_are_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a customer of another organization
    theirs = create(client, other_tenant)
    ours = create(client, tenant, {"identities": [{"kind": "email", "value": "o@example.com"}]})
    # when this tenant names it (or an id that exists nowhere), then it is not found
    for customer_id in (theirs["id"], 999_999):
        for method, url, body in foreign_requests(customer_id):
            if url.endswith("/merge"):
                url = url.replace(str(customer_id), str(ours["id"]))
            response = client.request(method, url, json=body, headers=tenant.headers)
            assert response.status_code == 404, (method, url, response.text)
    # and their customer is untouched
    view = client.get(f"/api/v1/customers/{theirs['id']}", headers=other_tenant.headers).json()
    assert view["customer"]["erased_at"] is None
    assert view["customer"]["merged_into_id"] is None
    assert view["customer"]["city"] is None
    assert [s["purpose"] for s in view["customer"]["consent"]] == ["marketing"]


def test_customers_api_needs_an_api_key(client: TestClient, tenant: Tenant) -> None:
    assert client.get("/api/v1/customers").status_code == 401
