"""The journeys REST API through the real HTTP app: event batches, 413/422, 404 across tenants."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Tenant
from tests.journeys.conftest import Journeys, event, stored_events


def test_event_batch_answers_counts_and_rejections_by_index(
    client: TestClient, tenant: Tenant, journeys: Journeys, db_session: Session
) -> None:
    # given a batch with a good event, its repeat and a naive timestamp
    body = {
        "events": [
            event("e-1", customer_id=journeys.anna_id),
            event("e-1"),
            event("e-2", timestamp="2026-11-20T10:00:00"),
        ]
    }
    # when posted, twice
    first = client.post("/api/v1/events", json=body, headers=tenant.headers)
    again = client.post("/api/v1/events", json=body, headers=tenant.headers)
    # then the answer says what was stored, what was known and what was wrong, by index
    assert first.status_code == 200, first.text
    assert first.json() == {
        "received": 3,
        "accepted": 1,
        "duplicates": 1,
        "rejected": [
            {"index": 2, "field": "timestamp", "reason": "Input should have timezone info"}
        ],
    }
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
    assert stored_events(db_session, tenant.org_id) == 1
    listed = client.get(
        "/api/v1/events", params={"customer_id": journeys.anna_id}, headers=tenant.headers
    ).json()
    assert [(e["event_id"], e["type"]) for e in listed] == [("e-1", "page_view")]


def test_more_than_10000_events_is_413_and_stores_nothing(
    client: TestClient, tenant: Tenant, journeys: Journeys, db_session: Session
) -> None:
    body = {"events": [event(f"e-{n}") for n in range(10_001)]}
    response = client.post("/api/v1/events", json=body, headers=tenant.headers)
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]
    assert stored_events(db_session, tenant.org_id) == 0


def test_malformed_body_is_422(client: TestClient, tenant: Tenant, journeys: Journeys) -> None:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    cases = {
        b'{"events": [': ["body"],
        b"[]": ["body", "events"],
        b'{"events": {"event_id": "e-1"}}': ["body", "events"],
        b'{"events": [], "sent_at": "now"}': ["body", "sent_at"],
    }
    for body, loc in cases.items():
        response = client.post("/api/v1/events", content=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc, body


def test_other_tenants_touchpoint_key_is_rejected_per_event(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, journeys: Journeys
) -> None:
    body = {"events": [event("e-1", touchpoint="their-store"), event("e-2")]}
    result = client.post("/api/v1/events", json=body, headers=tenant.headers).json()
    assert result["accepted"] == 1
    assert [(r["index"], r["field"]) for r in result["rejected"]] == [(0, "touchpoint")]


def test_touchpoints_are_upserted_listed_and_read(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body = {
        "touchpoints": [
            {
                "key": "chat-support",
                "name": "Chat support",
                "stage": "service",
                "channel": "chat",
                "is_online": True,
                "department": "service",
            }
        ]
    }
    response = client.post("/api/v1/touchpoints", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    (created,) = response.json()
    listed = client.get("/api/v1/touchpoints", headers=tenant.headers).json()
    assert [t["key"] for t in listed] == ["chat-support"]
    one = client.get(f"/api/v1/touchpoints/{created['id']}", headers=tenant.headers)
    assert one.json()["stage"] == "service"
    # the other organization neither sees nor reads it
    theirs = other_tenant.headers
    assert client.get(f"/api/v1/touchpoints/{created['id']}", headers=theirs).status_code == 404
    assert client.get("/api/v1/touchpoints", headers=theirs).json() == []
    assert client.get("/api/v1/events", headers=theirs).json() == []


def test_touchpoint_with_unknown_stage_is_422_naming_the_field(
    client: TestClient, tenant: Tenant
) -> None:
    body = {
        "touchpoints": [
            {
                "key": "x",
                "name": "X",
                "stage": "nirvana",
                "channel": "web",
                "is_online": True,
                "department": "sales",
            }
        ]
    }
    response = client.post("/api/v1/touchpoints", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "touchpoints", 0, "stage"]


def test_events_api_needs_an_api_key(client: TestClient, journeys: Journeys) -> None:
    assert client.post("/api/v1/events", json={"events": [event("e-1")]}).status_code == 401
    assert client.get("/api/v1/events").status_code == 401


def test_bad_key_is_401_even_with_a_malformed_body(client: TestClient) -> None:
    response = client.post(
        "/api/v1/events", content=b"{", headers={"Authorization": "Bearer ocx_wrong"}
    )
    assert response.status_code == 401
