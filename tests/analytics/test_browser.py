"""Agent feedback in a real browser: the list with sparklines, and one agent's trend charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.conftest import Feedback
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_team_lead_opens_agent_feedback_and_an_agents_trend(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    feedback: Feedback,
) -> None:
    # given a manager signed in
    page = signed_in_page(browser, live_server, feedback.manager_email, DESKTOP)
    # when they follow "Agent feedback" in the menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agent feedback").click()
    page.wait_for_url("**/feedback/agents")
    page.get_by_label("Period").select_option("4")
    page.wait_for_url("**/feedback/agents?weeks=4")
    # then each agent has a row with a drawn sparkline, and Ada's rise is flagged
    rows = page.locator("table.feedback-table tbody tr")
    assert rows.count() == 2
    page.wait_for_function("document.querySelectorAll('.sparkline canvas').length === 2")
    assert rows.first.get_by_text("significant", exact=True).first.is_visible()
    page.screenshot(path=screenshots / "agent-feedback-desktop.png", full_page=True)
    # when Ada's page is opened
    page.get_by_role("link", name="Ada").click()
    page.wait_for_url(f"**/feedback/agents/{feedback.ada_id}?weeks=4")
    # then both weekly charts are drawn, and her comments are one link away
    page.wait_for_selector("#nps-trend canvas")
    page.wait_for_selector("#csat-trend canvas")
    box = page.locator("#nps-trend canvas").first.bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 150
    link = page.get_by_role("link", name="Comments about Ada")
    assert link.get_attribute("href") == f"/surveys/comments?agent={feedback.ada_id}"
    page.screenshot(path=screenshots / "agent-feedback-ada-desktop.png", full_page=True)


def test_an_agent_on_a_phone_lands_on_their_own_page(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    feedback: Feedback,
) -> None:
    page = signed_in_page(browser, live_server, feedback.ada_email, PHONE)
    page.goto("/feedback/agents?weeks=4")
    page.wait_for_url(f"**/feedback/agents/{feedback.ada_id}?weeks=4")
    page.wait_for_selector("#nps-trend canvas")
    # then nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "agent-feedback-ada-phone.png", full_page=True)
