"""The public survey page over HTTP, as a phone without JavaScript uses it: plain GETs and form posts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.surveys import service
from opencx.surveys.models import SurveyResponse
from opencx.surveys.schemas import InvitationIn
from tests.surveys.conftest import NOW, World, invite


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SurveyResponse)) or 0


@pytest.mark.parametrize(
    ("customer", "lang", "question", "button"),
    [
        ("anna_id", "nl", "Hoe waarschijnlijk is het", "Versturen"),
        ("piotr_id", "pl", "Jak bardzo prawdopodobne", "Wyślij"),
        ("jane_id", "en", "How likely is it", "Send"),
    ],
)
def test_the_page_speaks_the_customers_language(
    client: TestClient,
    db_session: Session,
    world: World,
    customer: str,
    lang: str,
    question: str,
    button: str,
) -> None:
    token = invite(db_session, world, getattr(world, customer))
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{lang}">' in html and question in html and button in html
    # accessible and small: a fieldset with a legend for the 0-10 scale, labels, no scripts
    assert (
        '<fieldset aria-describedby="ends_score">' in html
        and "<legend>" in html
        and html.count('type="radio"') == 11
    )
    assert '<label for="q_why">' in html
    assert "<script" not in html and "echarts" not in html and "htmx" not in html
    assert len(page.content) < 50_000


def test_no_javascript_flow_detractor_follow_up_then_thanks(
    client: TestClient, db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id)
    # when a detractor posts the first page, then the follow-up question appears
    first = client.post(f"/s/{token}", data={"shown": ["score", "why"], "q_score": "3"})
    assert first.status_code == 200 and "Wat ging er mis" in first.text
    assert 'value="3" checked' in first.text
    # when the follow-up is answered, then the thank-you page shows
    done = client.post(
        f"/s/{token}",
        data={
            "shown": ["score", "why", "what_went_wrong"],
            "q_score": "3",
            "q_what_went_wrong": "Te laat",
        },
    )
    assert done.status_code == 200 and "Bedankt voor uw feedback" in done.text
    # and a second submit changes the same response instead of counting twice
    client.post(f"/s/{token}", data={"shown": ["score", "why"], "q_score": "9"})
    assert _count(db_session) == 1
    (response,) = db_session.scalars(select(SurveyResponse)).all()
    assert response.score == 9 and response.answers == {"score": 9}


def test_partial_answers_are_kept_and_required_ones_asked_for(
    client: TestClient, db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.jane_id)
    page = client.post(f"/s/{token}", data={"shown": ["score", "why"], "q_why": "Friendly staff"})
    assert page.status_code == 200 and "marked as required" in page.text
    assert "Friendly staff" in client.get(f"/s/{token}").text
    assert _count(db_session) == 1


def test_an_impossible_answer_is_422_and_nothing_is_stored(
    client: TestClient, db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.piotr_id)
    page = client.post(f"/s/{token}", data={"shown": ["score"], "q_score": "42"})
    assert page.status_code == 422 and "Taka odpowiedź nie jest możliwa" in page.text
    assert _count(db_session) == 0


def test_tampered_and_expired_links_get_a_clear_page_and_store_nothing(
    client: TestClient, db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id)
    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    for method in ("GET", "POST"):
        response = client.request(
            method, f"/s/{tampered}", data={"shown": ["score"], "q_score": "9"}
        )
        assert response.status_code == 404 and "not valid" in response.text
    # an expired link: correctly signed, but its days are over
    old = service.create_invitation(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(customer_id=world.piotr_id, channel="email", valid_days=1),
        now=NOW - timedelta(days=2),
    )
    db_session.commit()
    for method in ("GET", "POST"):
        response = client.request(method, old.path, data={"shown": ["score"], "q_score": "9"})
        assert response.status_code == 410 and "no longer open" in response.text
    # a closed survey: its links answer the same way
    service.close_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    db_session.commit()
    closed = client.post(f"/s/{token}", data={"shown": ["score"], "q_score": "9"})
    assert closed.status_code == 410 and "no longer open" in closed.text
    assert _count(db_session) == 0
