"""The survey pages in a real browser: the public page on a phone without JavaScript, and the
team's builder, preview, results and comments with live updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.surveys import service
from opencx.surveys.models import SurveyResponse
from opencx.surveys.schemas import InvitationIn
from tests.conftest import PASSWORD, Tenant
from tests.surveys.conftest import World, invite, make_customer
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

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


def test_a_manager_builds_previews_and_publishes_then_answers_arrive_live(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
) -> None:
    # given a manager and a Dutch customer who agreed to surveys
    auth.create_user(
        db_session,
        org_id=tenant.org_id,
        email="manager@acme.example",
        name="Mia Manager",
        role=Role.manager,
        password=PASSWORD,
    )
    customer_id = make_customer(db_session, tenant.org_id, "Anna", "nl", channel="email")
    db_session.commit()
    page = signed_in_page(browser, live_server, "manager@acme.example", DESKTOP)
    # when she creates an NPS survey from the template
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    page.get_by_label("Name").fill("Na de bezorging")
    page.get_by_label("Start from").select_option("nps")
    page.get_by_role("button", name="Create and edit").click()
    page.wait_for_url("**/surveys/*/edit")
    survey_id = int(page.url.split("/")[-2])
    assert page.get_by_role("heading", name="Version 1: draft").is_visible()
    # and adds a question without a reload (htmx swaps the builder), then removes it again
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Add a question").click()
    page.wait_for_selector("#q3")
    # (choosing a kind brings its fields at once: a choice gets two options to fill in)
    page.locator("#q3").get_by_label("Kind").select_option("single_choice")
    page.locator("#q3").get_by_label("Label (nl)").first.wait_for()
    assert page.locator("#q3 .option-row").count() == 2
    page.get_by_role("button", name="Remove question 4").click()
    page.wait_for_function("!document.querySelector('#q3')")
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=screenshots / "survey-builder-desktop.png", full_page=True)
    # and previews it in Dutch
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_url("**/preview?lang=nl")
    assert page.get_by_role("group", name="Hoe waarschijnlijk").is_visible()
    assert page.get_by_text("shown when score <= 6").is_visible()
    assert page.get_by_role("button", name="Versturen").is_disabled()
    page.get_by_role("link", name="Back to the builder").click()
    # and publishes it
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url("**/edit?done=published")
    assert page.get_by_role("heading", name="Version 1: published").is_visible()
    # and keeps the results and the comments open
    page.goto(f"/surveys/{survey_id}/results")
    page.evaluate("window.stillTheSamePage = true")
    comments = page.context.new_page()
    comments.goto(f"/surveys/comments?survey={survey_id}")
    comments.evaluate("window.stillTheSamePage = true")
    assert page.get_by_text("No responses yet.").is_visible()
    # when Anna answers on her phone through the public page
    invitation = service.create_invitation(
        db_session,
        org_id=tenant.org_id,
        survey_id=survey_id,
        data=InvitationIn(customer_id=customer_id, channel="email"),
    )
    db_session.commit()
    phone = browser.new_context(viewport=PHONE, base_url=live_server).new_page()
    phone.goto(invitation.path)
    phone.get_by_text("3", exact=True).click()
    phone.get_by_label("Wat is de belangrijkste reden").fill("De bank kwam te laat")
    phone.get_by_role("button", name="Versturen").click()
    phone.get_by_label("Wat ging er mis").fill("Niemand belde terug")
    phone.get_by_role("button", name="Versturen").click()
    phone.get_by_role("heading", name="Bedankt voor uw feedback!").wait_for()
    # then her answer appears on both open pages without a reload
    page.get_by_text("Niemand belde terug").wait_for(timeout=20_000)
    assert page.locator("#live-count").inner_text() == "1"
    comments.get_by_text("Niemand belde terug").wait_for(timeout=20_000)
    assert comments.get_by_role("link", name="Anna").is_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    assert comments.evaluate("window.stillTheSamePage") is True
    # and once others answered in the weeks before and the analytics store is synced,
    # the charts draw the scores
    for n, score in enumerate([10, 9, 9, 8, 6, 10, 7, 9, 2, 10, 9, 5]):
        then = datetime.now(UTC) - timedelta(weeks=1 + n % 3)
        earlier = make_customer(db_session, tenant.org_id, f"Earlier{n}", "en", channel="email")
        earlier_invitation = service.create_invitation(
            db_session,
            org_id=tenant.org_id,
            survey_id=survey_id,
            data=InvitationIn(customer_id=earlier, channel="email"),
            now=then,
        )
        service.record_answers(
            db_session,
            token=earlier_invitation.token,
            form={"shown": ["score", "why"], "q_score": [str(score)], "q_why": ["ok"]},
            now=then,
        )
    db_session.commit()
    sync_to_analytics()
    page.reload()
    page.wait_for_selector("#trend-chart canvas")
    page.wait_for_selector("#distribution-chart canvas")
    assert page.locator("#headline-value").inner_text() == "+23"  # 7 promoters, 4 detractors of 13
    page.screenshot(path=screenshots / "survey-results-desktop.png", full_page=True)
    comments.screenshot(path=screenshots / "survey-comments-desktop.png", full_page=True)
    # and every team page fits a phone screen
    small = signed_in_page(browser, live_server, "manager@acme.example", PHONE)
    for path, name in [
        (f"/surveys/{survey_id}/edit", "builder"),
        (f"/surveys/{survey_id}/preview?lang=pl", "preview"),
        (f"/surveys/{survey_id}/results", "results"),
        ("/surveys/comments", "comments"),
        ("/surveys", "list"),
    ]:
        small.goto(path)
        small.wait_for_load_state("load")
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a phone"
        small.screenshot(path=screenshots / f"survey-{name}-phone.png", full_page=True)


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
