"""The text analytics settings page: both models' quality per language, and learning on demand."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.auth.models import Role
from tests.conftest import PASSWORD, Tenant, login
from tests.textanalytics.conftest import RatedWorld


def csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_manager_learns_and_sees_both_models_measured(
    client: TestClient, tenant: Tenant, rated_world: RatedWorld
) -> None:
    login(client, tenant.admin_email)
    # before learning: nothing learned yet
    page = client.get("/settings/text-analytics")
    assert page.status_code == 200
    assert "Nothing learned yet." in page.text and 'id="last-trained">never' in page.text
    # when the manager presses "Learn now"
    learned = client.post(
        "/settings/text-analytics/learn",
        data={"csrf_token": csrf(page.text)},
        follow_redirects=True,
    )
    # then the English row shows 60 and 60 comments, both qualities, and the learned model used
    assert learned.status_code == 200
    row = learned.text.split('<td data-label="Language">en</td>')[1].split("</tr>")[0]
    assert "60 negative, 60 positive" in row
    assert "<strong>learned</strong>" in row and "learned macro-F1" in row
    assert 'id="last-trained">never' not in learned.text


def test_an_agent_cannot_relearn(
    client: TestClient, db_session: Session, tenant: Tenant, rated_world: RatedWorld
) -> None:
    auth.create_user(
        db_session,
        org_id=tenant.org_id,
        email="agent@acme.example",
        name="Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    login(client, "agent@acme.example")
    page = client.get("/settings/text-analytics")
    assert "Learn now" not in page.text
    refused = client.post("/settings/text-analytics/learn", data={"csrf_token": csrf(page.text)})
    assert refused.status_code == 403
    assert "Nothing learned yet." in client.get("/settings/text-analytics").text
