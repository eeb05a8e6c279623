"""The journey analytics API and pages through the real HTTP app."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.journeys.maps.models import JourneyTask
from tests.conftest import Tenant, login
from tests.journeys.maps.conftest import END, START, Journey

PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
CHECKOUT = {
    "name": "Checkout",
    "start_event": "checkout_start",
    "success_event": "checkout_complete",
    "error_events": ["checkout_error"],
    "abandon_after_seconds": 3600,
}


def stored_tasks(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(JourneyTask)) or 0


def test_task_crud_and_metrics(client: TestClient, tenant: Tenant, journey: Journey) -> None:
    # when a task is created, read, listed, changed and measured
    created = client.post("/api/v1/journey-tasks", json=CHECKOUT, headers=tenant.headers)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert client.get(f"/api/v1/journey-tasks/{task_id}", headers=tenant.headers).json() == {
        "id": task_id, **CHECKOUT,
    }  # fmt: skip
    listed = client.get("/api/v1/journey-tasks", headers=tenant.headers).json()
    assert [t["name"] for t in listed] == ["Checkout"]
    changed = client.put(
        f"/api/v1/journey-tasks/{task_id}",
        json={**CHECKOUT, "abandon_after_seconds": None},
        headers=tenant.headers,
    )
    assert changed.status_code == 200 and changed.json()["abandon_after_seconds"] is None
    report = client.get(
        f"/api/v1/journey-tasks/{task_id}/metrics", params=PERIOD, headers=tenant.headers
    )
    # then the figures are those of the journey
    assert report.status_code == 200, report.text
    assert report.json()["overall"]["attempts"] == 3
    assert report.json()["overall"]["successes"] == 2
    # and deleting it leaves a 404
    assert (
        client.delete(f"/api/v1/journey-tasks/{task_id}", headers=tenant.headers).status_code == 204
    )
    assert client.get(f"/api/v1/journey-tasks/{task_id}", headers=tenant.headers).status_code == 404


def test_a_bad_task_is_422_naming_the_field_and_stores_nothing(
    client: TestClient, tenant: Tenant, journey: Journey, db_session: Session
) -> None:
    cases = {
        "name": {**CHECKOUT, "name": ""},
        "start_event": {**CHECKOUT, "start_event": "has space"},
        "success_event": {**CHECKOUT, "success_event": "checkout_start"},
        "abandon_after_seconds": {**CHECKOUT, "abandon_after_seconds": 0},
        "error_events": {**CHECKOUT, "error_events": "checkout_error"},
        "colour": {**CHECKOUT, "colour": "red"},
    }
    for field, body in cases.items():
        response = client.post("/api/v1/journey-tasks", json=body, headers=tenant.headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"][0]["loc"][:2] == ["body", field], response.text
    assert stored_tasks(db_session) == 0


def test_another_tenants_task_is_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, journey: Journey
) -> None:
    task_id = client.post("/api/v1/journey-tasks", json=CHECKOUT, headers=tenant.headers).json()[
        "id"
    ]
    for method in ("get", "delete"):
        response = client.request(
            method, f"/api/v1/journey-tasks/{task_id}", headers=other_tenant.headers
        )
        assert response.status_code == 404
    metrics = client.get(
        f"/api/v1/journey-tasks/{task_id}/metrics", params=PERIOD, headers=other_tenant.headers
    )
    assert metrics.status_code == 404


def test_map_and_pain_points_endpoints(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, journey: Journey
) -> None:
    journey_map = client.get("/api/v1/journeys/map", params=PERIOD, headers=tenant.headers)
    assert journey_map.status_code == 200, journey_map.text
    assert journey_map.json()["stages"][0]["customers"] == 2
    pains = client.get("/api/v1/journeys/pain-points", params=PERIOD, headers=tenant.headers)
    assert pains.json()["pain_points"][0]["key"] == "delivery-updates"
    # of Polish customers: Pia's failed checkout only; of the vip segment: Cas's late delivery
    polish = client.get(
        "/api/v1/journeys/pain-points", params={**PERIOD, "country": "PL"}, headers=tenant.headers
    ).json()
    assert polish["country"] == "PL"
    assert [(p["key"], p["reach"], p["errors"]) for p in polish["pain_points"]] == [
        ("checkout", 1, 1)
    ]
    vip = client.get(
        "/api/v1/journeys/pain-points", params={**PERIOD, "segment": "vip"}, headers=tenant.headers
    ).json()
    assert vip["pain_points"][0]["key"] == "delivery-updates"
    assert "checkout" not in {p["key"] for p in vip["pain_points"]}
    # the other tenant sees its own complaint only
    theirs = client.get("/api/v1/journeys/pain-points", params=PERIOD, headers=other_tenant.headers)
    assert [p["key"] for p in theirs.json()["pain_points"]] == ["complaints"]
    # and a backwards period names the field
    backwards = client.get(
        "/api/v1/journeys/map", params={"start": END, "end": START}, headers=tenant.headers
    )
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["body", "end"]


def test_pages_render_and_a_task_is_saved_from_the_form(
    client: TestClient, tenant: Tenant, journey: Journey, db_session: Session
) -> None:
    # given a signed-in user
    login(client, tenant.admin_email)
    # then the index links every journey page, and the pages render the journey
    index = client.get("/journeys")
    for path in ("/journeys/map", "/journeys/pain-points", "/journeys/tasks", "/journeys/paths",
                 "/journeys/funnels"):  # fmt: skip
        assert f'href="{path}"' in index.text
    page = client.get("/journeys/map", params={**PERIOD, "country": "NL"})
    assert page.status_code == 200 and "Delivery updates" in page.text
    pains = client.get("/journeys/pain-points", params=PERIOD)
    assert "Where is my sofa? Promised days ago." in pains.text
    # and the pain points follow the segment and country picked (Cas's words are not Polish)
    polish = client.get("/journeys/pain-points", params={**PERIOD, "country": "PL"}).text
    assert "customers in PL" in polish and '<option value="PL" selected>' in polish
    assert "Where is my sofa?" not in polish
    vip = client.get("/journeys/pain-points", params={**PERIOD, "segment": "vip"}).text
    assert "segment vip" in vip and "Where is my sofa? Promised days ago." in vip
    # when the task form is sent without a success event, the page says which field
    form = {k: v for k, v in CHECKOUT.items() if k not in ("error_events", "abandon_after_seconds")}
    bad = client.post(
        "/journeys/tasks",
        data={**form, "success_event": "", "csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "success_event" in bad.text
    assert stored_tasks(db_session) == 0
    # and a good one is saved and shown
    good = client.post(
        "/journeys/tasks",
        data={
            **form,
            "error_events": "checkout_error",
            "abandon_after_minutes": "60",
            "csrf_token": _csrf(client),
        },
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text
    shown = client.get(good.headers["location"], params=PERIOD)
    assert "checkout_error" in shown.text and "67%" in shown.text  # 2 of 3 attempts succeed


def _csrf(client: TestClient) -> str:
    page = client.get("/journeys/tasks")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]
