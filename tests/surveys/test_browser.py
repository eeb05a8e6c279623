"""The public survey page in a real browser on a phone screen, with JavaScript switched off."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.surveys import service
from opencx.surveys.models import SurveyResponse
from tests.surveys.conftest import World, invite
from tests.web.test_browser import PHONE, browser, live_server, screenshots  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_detractor_answers_on_a_phone_by_keyboard_without_javascript(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    world: World,
) -> None:
    # given Anna's invitation, opened on a phone-sized screen with JavaScript off
    token = invite(db_session, world, world.anna_id)
    context = browser.new_context(viewport=PHONE, base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/s/{token}")
    # then the Dutch question fits the screen: nothing scrolls sideways
    scale = page.get_by_role("group", name="Hoe waarschijnlijk")
    assert scale.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "survey-phone.png", full_page=True)
    # when she picks 3 with the keyboard only (tab into the scale, arrows move the choice)
    page.get_by_role("radio", name="0", exact=True).focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="3", exact=True).is_checked()
    page.keyboard.press("Enter")  # submits the form
    # then the follow-up for detractors appears, labelled, with her score kept
    follow_up = page.get_by_label("Wat ging er mis")
    follow_up.wait_for()
    assert page.get_by_role("radio", name="3", exact=True).is_checked()
    follow_up.fill("De bank kwam een week te laat")
    page.get_by_role("button", name="Versturen").click()
    # then she is thanked, and one complete response is stored
    assert page.get_by_role("heading", name="Bedankt voor uw feedback!").is_visible()
    page.screenshot(path=screenshots / "survey-thanks-phone.png", full_page=True)
    context.close()
    db_session.expire_all()
    (response,) = db_session.scalars(select(SurveyResponse)).all()
    assert response.completed and response.score == 3
    assert response.answers["what_went_wrong"] == "De bank kwam een week te laat"


def test_the_public_link_in_a_browser_keeps_one_response_per_browser(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    world: World,
) -> None:
    # given the survey's public link, opened by a Polish phone browser with JavaScript off
    survey = service.update_public_link(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, enabled=True
    )
    db_session.commit()
    assert survey.public_path is not None
    context = browser.new_context(
        viewport=PHONE, base_url=live_server, java_script_enabled=False, locale="pl-PL"
    )
    page = context.new_page()
    page.goto(survey.public_path)
    # when the visitor picks 9 and sends
    page.get_by_role("radio", name="9", exact=True).check()
    page.get_by_role("button", name="Wyślij").click()
    # then they are thanked in Polish
    assert page.get_by_role("heading", name="Dziękujemy za Twoją opinię!").is_visible()
    page.screenshot(path=screenshots / "survey-public-link-thanks.png", full_page=True)
    # when they open the public link again, then their own answer is there, and changing it
    # updates the same response
    page.goto(survey.public_path)
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    page.get_by_role("radio", name="10", exact=True).check()
    page.get_by_role("button", name="Wyślij").click()
    assert page.get_by_role("heading", name="Dziękujemy za Twoją opinię!").is_visible()
    context.close()
    db_session.expire_all()
    (response,) = db_session.scalars(select(SurveyResponse)).all()
    assert (response.score, response.channel, response.customer_id) == (10, "link", None)
    assert response.language == "pl"
