"""Agent feedback pages: team leads see every agent, an agent sees only their own page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.analytics.conftest import Feedback
from tests.conftest import Tenant, login


def test_signed_out_visitor_goes_to_the_login_page(client: TestClient) -> None:
    answer = client.get("/feedback/agents", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_manager_sees_every_agent_with_scores_and_the_significant_change(
    client: TestClient, feedback: Feedback
) -> None:
    # given a manager signed in
    login(client, feedback.manager_email)
    # when they open the agent feedback list
    page = client.get("/feedback/agents?weeks=4")
    assert page.status_code == 200
    html = page.text
    # then both agents are listed, Ada first, each with NPS and CSAT and their intervals
    assert html.index(">Ada</a>") < html.index(">Bo</a>")
    assert f'href="/feedback/agents/{feedback.ada_id}?weeks=4"' in html
    assert "+83" in html and "+17" in html  # NPS this period: Ada 10/12 promoters, Bo 3-2 of 6
    assert "90%" in html  # Ada's CSAT: 9 of 10 satisfied
    assert "to" in html and "12 responses" in html
    # and only Ada's NPS and CSAT rises are flagged significant
    assert html.count('<strong class="flag">significant</strong>') == 2
    assert html.count("data-trend=") == 2
    assert 'aria-current="page">Agent feedback' in html


def test_analyst_sees_an_agents_page_with_touchpoints_and_comments_link(
    client: TestClient, feedback: Feedback
) -> None:
    login(client, feedback.analyst_email)
    page = client.get(f"/feedback/agents/{feedback.ada_id}?weeks=4")
    assert page.status_code == 200
    html = page.text
    assert "Feedback on Ada" in html
    assert f'href="/surveys/comments?agent={feedback.ada_id}"' in html
    assert "Chat" in html and "Phone line" in html
    assert 'id="nps-trend"' in html and 'id="csat-trend"' in html
    assert "← Agent feedback" in html


def test_an_agent_sees_only_their_own_page(client: TestClient, feedback: Feedback) -> None:
    # given Ada, an agent, signed in
    login(client, feedback.ada_email)
    # when she opens the list, she is sent to her own page
    listed = client.get("/feedback/agents?weeks=4", follow_redirects=False)
    assert listed.status_code == 303
    assert listed.headers["location"] == f"/feedback/agents/{feedback.ada_id}?weeks=4"
    own = client.get(f"/feedback/agents/{feedback.ada_id}?weeks=4")
    assert own.status_code == 200 and "Feedback on Ada" in own.text
    assert "← Agent feedback" not in own.text
    # and Bo's page does not exist for her
    assert client.get(f"/feedback/agents/{feedback.bo_id}").status_code == 404


def test_another_organizations_agent_is_not_found(
    client: TestClient, feedback: Feedback, other_tenant: Tenant
) -> None:
    login(client, other_tenant.admin_email)
    assert client.get(f"/feedback/agents/{feedback.ada_id}?weeks=4").status_code == 404
    listed = client.get("/feedback/agents?weeks=4")
    assert listed.status_code == 200 and "Ada" not in listed.text
    assert "No survey answers about agents" in listed.text


def test_a_period_out_of_range_is_refused_naming_weeks(
    client: TestClient, feedback: Feedback
) -> None:
    login(client, feedback.manager_email)
    answer = client.get("/feedback/agents?weeks=500")
    assert answer.status_code == 422 and "weeks" in answer.text
