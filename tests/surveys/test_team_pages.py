"""The team's survey pages through the real app: list, builder, preview, results, comments, roles."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.surveys import service
from opencx.surveys.models import Survey, SurveyStatus, SurveyVersion
from opencx.surveys.schemas import SurveyIn
from tests.conftest import PASSWORD, Tenant, login
from tests.surveys.conftest import World
from tests.surveys.test_results import answer


def csrf(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def user(session: Session, tenant: Tenant, role: Role) -> str:
    email = f"{role.value}@{tenant.slug}.example"
    auth.create_user(
        session,
        org_id=tenant.org_id,
        email=email,
        name=f"{role.value.title()} {tenant.slug}",
        role=role,
        password=PASSWORD,
    )
    session.commit()
    return email


def builder_form(html: str) -> dict[str, str]:
    """The builder form's fields as the browser would post them (checked boxes, selections)."""
    form = html.split('<form id="builder"')[1].split("</form>")[0]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name[1]] = value[1] if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        fields[name] = body
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = chosen[1] if chosen else re.search(r'<option value="([^"]*)"', body)[1]
    fields.pop("action", None)
    return {k: v.replace("&amp;", "&").replace("&#39;", "'") for k, v in fields.items()}


def test_surveys_is_in_the_navigation_and_lists_surveys_with_their_figures(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    # given one answer
    answer(db_session, world, "Nina", 9, "good")
    login(client, tenant.admin_email)
    # when the list is opened
    page = client.get("/surveys")
    # then the navigation links to it and it shows the survey, its kind, status and responses
    assert page.status_code == 200
    assert '<a href="/surveys" aria-current="page">Surveys</a>' in page.text
    assert "After delivery" in page.text and "Active" in page.text
    assert re.search(r'data-label="Responses" class="num">1<', page.text)
    assert 'action="/surveys"' in page.text  # an admin may create


def test_a_manager_creates_an_nps_survey_from_the_template(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    login(client, user(db_session, tenant, Role.manager))
    token = csrf(client.get("/surveys").text)
    # when a manager creates an NPS survey
    created = client.post(
        "/surveys",
        data={"name": "After delivery", "kind": "nps", "csrf_token": token},
        follow_redirects=False,
    )
    # then it is a draft with the template's questions, and the builder opens
    assert created.status_code == 303
    survey = db_session.scalars(select(Survey).where(Survey.org_id == tenant.org_id)).one()
    assert created.headers["location"] == f"/surveys/{survey.id}/edit"
    builder = client.get(created.headers["location"])
    assert "Version 1: draft" in builder.text
    assert "Hoe waarschijnlijk is het" in builder.text and "Jak bardzo" in builder.text


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    created = client.post("/surveys", data={"name": "Sneaky", "kind": "nps"})
    closed = client.post(f"/surveys/{world.nps_survey_id}/close", data={"csrf_token": "wrong"})
    assert (created.status_code, closed.status_code) == (403, 403)
    db_session.expire_all()
    assert db_session.get(Survey, world.nps_survey_id).status is SurveyStatus.active
    assert len(db_session.scalars(select(Survey)).all()) == 1


def test_builder_adds_moves_and_saves_a_question_as_a_new_draft_version(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    url = f"/surveys/{world.nps_survey_id}/edit"
    page = client.get(url)
    assert "never changes again" in page.text and "Save as version 2 (draft)" in page.text
    fields = builder_form(page.text)
    # when a question is added (nothing is saved yet) and turned into a single choice
    added = client.post(url, data={**fields, "action": "add"})
    assert added.status_code == 200 and 'name="q3.key" value="question_4"' in added.text
    db_session.expire_all()
    assert len(db_session.scalars(select(SurveyVersion)).all()) == 1
    fields = builder_form(added.text)
    fields.update({"q3.kind": "single_choice", "q3.text.en": "Which part?"})
    refreshed = client.post(url, data={**fields, "action": "refresh"})
    fields = builder_form(refreshed.text)
    assert fields["q3.options"] == "2"
    fields.update(
        {
            "q3.o0.key": "delivery",
            "q3.o0.en": "Delivery",
            "q3.o0.nl": "Bezorging",
            "q3.o1.key": "product",
            "q3.o1.en": "Product",
        }
    )
    # and moved up above "what went wrong", then saved
    moved = client.post(url, data={**fields, "action": "up:3"})
    fields = builder_form(moved.text)
    assert fields["q2.key"] == "question_4"
    saved = client.post(url, data={**fields, "action": "save"}, follow_redirects=False)
    # then version 2 is a draft with the new question, and version 1 is unchanged
    assert saved.status_code == 303, saved.text
    survey = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    assert (survey.version, survey.published_at) == (2, None)
    assert [q.key for q in survey.questions] == ["score", "why", "question_4", "what_went_wrong"]
    assert survey.questions[2].options[0].text.nl == "Bezorging"
    assert survey.questions[2].options[1].text.nl is None
    assert survey.questions[3].show_if is not None and survey.questions[3].show_if.at_most == 6
    shown = client.get(saved.headers["location"])
    assert "Version 2: draft" in shown.text and "Saved." in shown.text


def test_builder_shows_validation_errors_next_to_the_form_and_saves_nothing(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    url = f"/surveys/{world.nps_survey_id}/edit"
    fields = builder_form(client.get(url).text)
    # when the English text is emptied, the scale reversed and a key repeated
    bad_text = {**fields, "q1.text.en": "", "name": "Renamed"}
    bad_scale = {**fields, "q0.scale_min": "9", "q0.scale_max": "3"}
    repeated = {**fields, "q1.key": "score"}
    answers = [
        client.post(url, data={**form, "action": "save"})
        for form in (bad_text, bad_scale, repeated)
    ]
    # then each is a 422 naming the field, next to the question, and the form keeps the input
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert "Nothing was saved" in answers[0].text
    assert "text.en: String should have at least 1 character" in answers[0].text
    assert 'value="Renamed"' in answers[0].text
    assert "scale_min must be below scale_max" in answers[1].text
    assert "questions: question 1: key &#39;score&#39; is repeated" in answers[2].text
    assert 'class="card question-card has-error" id="q1"' in answers[2].text
    # and nothing changed
    db_session.expire_all()
    survey = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    assert (survey.name, survey.version) == ("After delivery", 1)


def test_builder_sets_a_periodic_trigger_only_with_its_period(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    url = f"/surveys/{world.nps_survey_id}/edit"
    fields = builder_form(client.get(url).text)
    # when the trigger is set to periodic without a period
    missing = client.post(url, data={**fields, "trigger": "periodic", "action": "save"})
    # then it is a 422 naming period_days and nothing changes
    assert missing.status_code == 422
    assert "period_days: give period_days with trigger periodic" in missing.text
    db_session.expire_all()
    assert (
        service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id).trigger
        is None
    )
    # when it is saved with a quarterly period
    saved = client.post(
        url,
        data={**fields, "trigger": "periodic", "period_days": "91", "action": "save"},
        follow_redirects=False,
    )
    # then the survey asks every 91 days, and the builder shows it
    assert saved.status_code == 303
    db_session.expire_all()
    survey = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    assert (survey.trigger, survey.period_days) == ("periodic", 91)
    assert 'name="period_days" type="number" min="1" max="3650" inputmode="numeric" value="91"' in (
        client.get(url).text
    )


def test_publish_and_close_from_the_builder(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    draft = service.create_survey(
        db_session, org_id=tenant.org_id, data=SurveyIn(name="Chat", kind="csat")
    )
    db_session.commit()
    login(client, tenant.admin_email)
    token = csrf(client.get(f"/surveys/{draft.id}/edit").text)
    published = client.post(f"/surveys/{draft.id}/publish", data={"csrf_token": token})
    assert published.status_code == 200 and "Published" in published.text
    assert "Version 1: published" in published.text
    closed = client.post(f"/surveys/{draft.id}/close", data={"csrf_token": token})
    assert "survey closed" in closed.text
    db_session.expire_all()
    assert db_session.get(Survey, draft.id).status is SurveyStatus.closed


def test_the_preview_renders_the_public_page_in_dutch_without_a_way_to_send(
    client: TestClient, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    page = client.get(f"/surveys/{world.nps_survey_id}/preview", params={"lang": "nl"})
    html = page.text
    assert page.status_code == 200
    assert '<html lang="nl">' in html and "Hoe waarschijnlijk is het" in html
    assert html.count('type="radio"') == 11
    assert "This form does not send answers" in html
    assert '<button type="submit" disabled>Versturen</button>' in html
    assert "/s/" not in html and 'method="post"' not in html
    assert "shown when score &lt;= 6" in html and "Wat ging er mis" in html
    assert f'href="/surveys/{world.nps_survey_id}/preview?lang=pl"' in html


def test_results_page_and_its_live_fragment(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    answer(db_session, world, "Nina", 3, "Late again")
    from opencx.analytics.sync import sync_to_analytics

    sync_to_analytics()
    login(client, tenant.admin_email)
    page = client.get(f"/surveys/{world.nps_survey_id}/results")
    assert page.status_code == 200
    assert 'id="headline-value">-100<' in page.text
    assert "data-survey-chart=" in page.text and "Late again" in page.text
    assert f'href="/surveys/comments?survey={world.nps_survey_id}"' in page.text
    stamp = re.search(r"results/live\?stamp=([^\"]+)\"", page.text)[1]
    live = f"/surveys/{world.nps_survey_id}/results/live?stamp={stamp}"
    # when nothing changed, the poll is an empty 204 (htmx keeps the page as it is)
    unchanged = client.get(live)
    assert unchanged.status_code == 204 and unchanged.content == b""
    # when a response arrives, the poll brings the fragment with it
    answer(db_session, world, "Otto", 10, "Perfect")
    changed = client.get(live)
    assert changed.status_code == 200 and "<html" not in changed.text
    assert "Perfect" in changed.text and 'id="live-count">2<' in changed.text


def test_comments_page_filters_by_agent_and_links_the_customer(
    client: TestClient, db_session: Session, tenant: Tenant, world: World
) -> None:
    login(client, tenant.admin_email)
    agent_email = user(db_session, tenant, Role.agent)
    agent = next(
        u for u in auth.list_users(db_session, org_id=tenant.org_id) if u.email == agent_email
    )
    answer(db_session, world, "Dora", 2, "Rude on the phone", agent_id=agent.id)
    answer(db_session, world, "Paul", 9, "Quick")
    everything = client.get("/surveys/comments")
    assert "Rude on the phone" in everything.text and "Quick" in everything.text
    mine = client.get("/surveys/comments", params={"agent": agent.id})
    assert "Rude on the phone" in mine.text and "Quick" not in mine.text
    assert re.search(r'<a href="/customers/\d+">Dora</a>', mine.text)
    assert f'<option value="{agent.id}" selected>' in mine.text
    detractors = client.get("/surveys/comments", params={"group": "detractor", "language": "en"})
    assert "Rude on the phone" in detractors.text and "Quick" not in detractors.text
    # the live poll of page 1: nothing new is a 204
    stamp = unquote_plus(re.search(r"stamp=([^\"&]+)", mine.text)[1])
    polled = client.get("/surveys/comments", params={"agent": agent.id, "stamp": stamp})
    assert polled.status_code == 204


@pytest.mark.parametrize("role", [Role.analyst, Role.agent])
def test_analysts_and_agents_read_results_but_do_not_build(
    client: TestClient, db_session: Session, tenant: Tenant, world: World, role: Role
) -> None:
    login(client, user(db_session, tenant, role))
    survey_id = world.nps_survey_id
    # they read the list, results and comments
    listing = client.get("/surveys")
    assert listing.status_code == 200 and 'action="/surveys"' not in listing.text
    assert f'href="/surveys/{survey_id}/edit"' not in listing.text
    assert client.get(f"/surveys/{survey_id}/results").status_code == 200
    assert client.get("/surveys/comments").status_code == 200
    # and they may not build, preview, publish or close
    token = csrf(listing.text)
    assert client.get(f"/surveys/{survey_id}/edit").status_code == 403
    assert client.get(f"/surveys/{survey_id}/preview").status_code == 403
    for action in ("publish", "close"):
        assert (
            client.post(f"/surveys/{survey_id}/{action}", data={"csrf_token": token}).status_code
            == 403
        )
    created = client.post("/surveys", data={"name": "X", "kind": "nps", "csrf_token": token})
    assert created.status_code == 403
    db_session.expire_all()
    assert db_session.get(Survey, survey_id).status is SurveyStatus.active
    assert len(db_session.scalars(select(Survey)).all()) == 1


def test_another_organizations_survey_ids_are_404_on_every_page(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant, world: World
) -> None:
    login(client, other_tenant.admin_email)
    survey_id = world.nps_survey_id
    token = csrf(client.get("/surveys").text)
    for path in ("edit", "preview", "results", "results/live?stamp=x"):
        assert client.get(f"/surveys/{survey_id}/{path}").status_code == 404, path
    for action in ("edit", "publish", "close"):
        posted = client.post(
            f"/surveys/{survey_id}/{action}", data={"csrf_token": token, "action": "save"}
        )
        assert posted.status_code == 404, action
    assert client.get("/surveys/comments", params={"survey": survey_id}).status_code == 404
    listing = client.get("/surveys")
    assert "After delivery" not in listing.text
    db_session.expire_all()
    assert db_session.get(Survey, survey_id).status is SurveyStatus.active


@pytest.mark.parametrize(
    ("params", "named"),
    [({"group": "fans"}, "group"), ({"score_min": "11"}, "score_min")],
)
def test_a_wrong_comment_filter_is_a_422_naming_it(
    client: TestClient, tenant: Tenant, params: dict[str, str], named: str
) -> None:
    login(client, tenant.admin_email)
    response = client.get("/surveys/comments", params=params)
    assert response.status_code == 422
    assert f"{named}:" in response.text
