"""The paths and funnels REST API through the real HTTP app: results, CRUD, 422 and 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.journeys.funnels.conftest import END, FUNNEL, START, Shop

PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


def test_transitions_and_paths_answer_with_names_and_sankey(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    # when the top transitions and the paths after the product page are asked for
    moves = client.get("/api/v1/journeys/transitions", params=PERIOD, headers=tenant.headers)
    paths = client.get(
        "/api/v1/journeys/paths",
        params={**PERIOD, "touchpoint_key": "product", "steps": 2},
        headers=tenant.headers,
    )
    # then both name the touchpoints; the paths come with Sankey nodes and links
    assert moves.status_code == 200, moves.text
    assert [(m["from_touchpoint"], m["to_touchpoint"]) for m in moves.json()["transitions"]] == [
        ("Ad", "Product"),
        ("Product", "Checkout"),
    ]
    assert paths.status_code == 200, paths.text
    assert paths.json()["paths"][0] == {
        "touchpoints": ["Product", "Checkout"],
        "sessions": 2,
        "share": 2 / 3,
    }
    assert {"name": "+1 Checkout"} in paths.json()["nodes"]


def test_filters_narrow_transitions(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    moves = client.get(
        "/api/v1/journeys/transitions",
        params={**PERIOD, "country": "PL", "device": "mobile"},
        headers=tenant.headers,
    )
    assert moves.status_code == 200, moves.text
    assert moves.json()["total"] == 1


def test_a_funnel_query_answers_per_step(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    response = client.post(
        "/api/v1/journeys/funnels/query",
        json={**PERIOD, "steps": FUNNEL, "breakdown": "device"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [s["visitors"] for s in result["total"]["steps"]] == [3, 2, 1, 1]
    assert {g["group"] for g in result["groups"]} == {"desktop", "mobile"}


def test_saved_funnels_crud(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    # given a funnel saved through the API
    body = {"name": "Checkout", "steps": FUNNEL, "window_seconds": 3600}
    created = client.post("/api/v1/journeys/funnels", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/journeys/funnels/{created.json()['id']}"
    # when it is listed, replaced, computed, then deleted
    listed = client.get("/api/v1/journeys/funnels", headers=tenant.headers).json()
    replaced = client.put(url, json={**body, "name": "Web checkout"}, headers=tenant.headers)
    result = client.get(f"{url}/result", params=PERIOD, headers=tenant.headers)
    deleted = client.delete(url, headers=tenant.headers)
    # then each answer says what happened, and the funnel is gone at the end
    assert [f["name"] for f in listed] == ["Checkout"]
    assert replaced.status_code == 200 and replaced.json()["name"] == "Web checkout"
    assert result.status_code == 200, result.text
    assert [s["visitors"] for s in result.json()["total"]["steps"]] == [3, 2, 1, 1]
    assert deleted.status_code == 204
    assert client.get(url, headers=tenant.headers).status_code == 404


def test_bad_steps_are_422_naming_the_step_and_change_nothing(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    cases = [
        (
            [{"event_type": "a"}, {"touchpoint_key": "nowhere"}],
            ["body", "steps[1]", "touchpoint_key"],
        ),
        ([{"event_type": "a"}, {}], ["body", "steps", 1]),
        ([{"event_type": "a"}], ["body", "steps"]),
        ([{"event_type": "a"}, {"event_type": "a"}], ["body", "steps[1]"]),
    ]
    for steps, loc in cases:
        response = client.post(
            "/api/v1/journeys/funnels", json={"name": "x", "steps": steps}, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][: len(loc)] == loc, response.json()
    assert client.get("/api/v1/journeys/funnels", headers=tenant.headers).json() == []


def test_a_duplicate_name_is_409(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    body = {"name": "Checkout", "steps": FUNNEL}
    assert client.post("/api/v1/journeys/funnels", json=body, headers=tenant.headers).is_success
    again = client.post("/api/v1/journeys/funnels", json=body, headers=tenant.headers)
    assert again.status_code == 409


def test_another_tenants_funnel_is_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, shop: Shop
) -> None:
    body = {"name": "Checkout", "steps": FUNNEL}
    created = client.post("/api/v1/journeys/funnels", json=body, headers=tenant.headers).json()
    url = f"/api/v1/journeys/funnels/{created['id']}"
    assert client.get(url, headers=other_tenant.headers).status_code == 404
    assert client.delete(url, headers=other_tenant.headers).status_code == 404
    assert client.get(url, headers=tenant.headers).status_code == 200
