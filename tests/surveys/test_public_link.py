"""The anonymous public link: anyone may answer, one response per browser, channel `link`."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.surveys.models import SurveyInvitation, SurveyResponse
from tests.conftest import Tenant
from tests.surveys.conftest import World

DUTCH = {"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"}


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    invitations = session.scalar(select(func.count()).select_from(SurveyInvitation)) or 0
    responses = session.scalar(select(func.count()).select_from(SurveyResponse)) or 0
    return invitations, responses


def _public_link(client: TestClient, world: World, tenant: Tenant, **body: bool) -> str | None:
    response = client.put(
        f"/api/v1/surveys/{world.nps_survey_id}/public-link", headers=tenant.headers, json=body
    )
    assert response.status_code == 200, response.text
    path: str | None = response.json()["public_path"]
    return path


def test_anyone_answers_the_public_link_and_a_browser_counts_once(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given the NPS survey's public link turned on
    path = _public_link(client, world, tenant, enabled=True)
    assert path is not None and path.startswith("/s/p/")
    # when a visitor opens it, then the form shows in their language and nothing is stored
    page = client.get(path, headers=DUTCH)
    assert page.status_code == 200 and "Hoe waarschijnlijk" in page.text
    assert f'action="{path}"' in page.text
    assert _counts(db_session) == (0, 0)
    # when they give a low score, then the follow-up question comes, on their own link
    first = client.post(path, data={"shown": ["score", "why"], "q_score": "3"}, headers=DUTCH)
    assert first.status_code == 200 and "Wat ging er mis" in first.text
    assert 'action="/s/' in first.text and f'action="{path}"' not in first.text
    # and one anonymous response is stored, marked channel link, without a customer
    assert _counts(db_session) == (1, 1)
    response = db_session.scalars(select(SurveyResponse)).one()
    assert (response.channel, response.customer_id, response.score) == ("link", None, 3)
    assert response.language == "nl"
    # when the same browser comes back to the public link and answers again
    again = client.get(path, headers=DUTCH)
    assert again.status_code == 200 and 'value="3" checked' in again.text.replace("\n", " ")
    client.post(path, data={"shown": ["score", "why"], "q_score": "9"}, headers=DUTCH)
    # then its one response is updated, never counted twice
    assert _counts(db_session) == (1, 1)
    db_session.expire_all()
    assert db_session.scalars(select(SurveyResponse.score)).one() == 9
    # when another browser (no cookie) answers, then that is a second respondent
    client.cookies.clear()
    other = client.post(path, data={"shown": ["score", "why"], "q_score": "10"})
    assert other.status_code == 200
    assert _counts(db_session) == (2, 2)
    listed = client.get(
        f"/api/v1/surveys/{world.nps_survey_id}/responses", headers=tenant.headers
    ).json()
    assert sorted(r["score"] for r in listed) == [9, 10]
    assert {(r["channel"], r["customer_id"]) for r in listed} == {("link", None)}


def test_a_disabled_or_rotated_public_link_is_a_clear_page_and_stores_nothing(
    client: TestClient, db_session: Session, world: World, tenant: Tenant, other_tenant: Tenant
) -> None:
    old = _public_link(client, world, tenant, enabled=True)
    assert old is not None
    # when the link is rotated, then the old link is "not valid" and the new one works
    new = _public_link(client, world, tenant, enabled=True, rotate=True)
    assert new is not None and new != old
    gone = client.post(old, data={"shown": ["score"], "q_score": "7"})
    assert gone.status_code == 404 and "not valid" in gone.text
    assert client.get(new).status_code == 200
    # when it is disabled, then it is "no longer open" and the API shows no link
    assert _public_link(client, world, tenant, enabled=False) is None
    closed = client.post(new, data={"shown": ["score"], "q_score": "7"})
    assert closed.status_code == 410 and "no longer open" in closed.text
    assert client.get(new).status_code == 410
    # and an impossible answer on an open link is 422 with nothing kept
    reopened = _public_link(client, world, tenant, enabled=True)
    assert reopened == new
    bad = client.post(new, data={"shown": ["score"], "q_score": "11"})
    assert bad.status_code == 422
    assert _counts(db_session) == (0, 0)
    # and another organization cannot touch this survey's link
    foreign = client.put(
        f"/api/v1/surveys/{world.nps_survey_id}/public-link",
        headers=other_tenant.headers,
        json={"enabled": False},
    )
    assert foreign.status_code == 404
    assert client.get(new).status_code == 200
