"""The surveys REST API: build, publish, invite (with the link), list responses; tenants apart."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Tenant
from tests.surveys.conftest import World, make_customer


def test_build_publish_invite_answer_and_list_over_http(
    client: TestClient, world: World, tenant: Tenant
) -> None:
    # given a CSAT survey made from its template and published
    created = client.post(
        "/api/v1/surveys", headers=tenant.headers, json={"name": "Chat", "kind": "csat"}
    )
    assert created.status_code == 201, created.text
    survey = created.json()
    assert survey["status"] == "draft" and survey["questions"][0]["scale_max"] == 5
    published = client.post(f"/api/v1/surveys/{survey['id']}/publish", headers=tenant.headers)
    assert published.json()["status"] == "active"
    # when Piotr is invited, then the answer carries a working link
    invited = client.post(
        f"/api/v1/surveys/{survey['id']}/invitations",
        headers=tenant.headers,
        json={"customer_id": world.piotr_id, "channel": "email", "team": "Obsługa PL"},
    )
    assert invited.status_code == 201, invited.text
    link = invited.json()
    assert link["language"] == "pl" and link["url"].endswith(f"/s/{link['token']}")
    page = client.get(link["path"])
    assert page.status_code == 200
    posted = client.post(link["path"], data={"shown": ["score", "why"], "q_score": "5"})
    assert posted.status_code == 200
    # then the response is listed with its score and source
    responses = client.get(f"/api/v1/surveys/{survey['id']}/responses", headers=tenant.headers)
    (response,) = responses.json()
    assert response["score"] == 5 and response["team"] == "Obsługa PL" and response["completed"]


def test_refusals_are_409_with_the_reason(client: TestClient, world: World, tenant: Tenant) -> None:
    url = f"/api/v1/surveys/{world.nps_survey_id}/invitations"
    refused = client.post(
        url, headers=tenant.headers, json={"customer_id": world.silent_id, "channel": "email"}
    )
    assert refused.status_code == 409 and "consent" in refused.json()["detail"]
    ok = client.post(
        url, headers=tenant.headers, json={"customer_id": world.anna_id, "channel": "email"}
    )
    assert ok.status_code == 201
    again = client.post(
        url, headers=tenant.headers, json={"customer_id": world.anna_id, "channel": "email"}
    )
    assert again.status_code == 409 and "30 days" in again.json()["detail"]


def test_bad_questions_are_422_naming_the_field(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/surveys",
        headers=tenant.headers,
        json={
            "name": "x",
            "questions": [{"key": "a", "kind": "single_choice", "text": {"en": "?"}}],
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "questions"]
    assert client.get("/api/v1/surveys", headers=tenant.headers).json() == []


def test_another_tenants_survey_is_404(
    client: TestClient, db_session: Session, world: World, other_tenant: Tenant
) -> None:
    stranger = make_customer(db_session, other_tenant.org_id, "Otto", "nl", channel="email")
    db_session.commit()
    base = f"/api/v1/surveys/{world.nps_survey_id}"
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/responses", None),
        ("POST", f"{base}/publish", None),
        ("POST", f"{base}/close", None),
        ("POST", f"{base}/invitations", {"customer_id": stranger, "channel": "email"}),
    ):
        response = client.request(method, path, headers=other_tenant.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert client.get("/api/v1/surveys", headers=other_tenant.headers).json() == []
