"""Journey pages in a real browser: the index, the map's charts, pain points and a new task."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.journeys.maps.conftest import END, START, Journey
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser
PERIOD = f"start={START.isoformat()}&end={END.isoformat()}"


def test_a_manager_walks_the_journey_pages_and_defines_a_task(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    journey: Journey,
) -> None:
    # given a signed-in user
    page = signed_in_page(browser, live_server, journey.admin_email, DESKTOP)
    # when they follow "Journeys" in the menu
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    page.wait_for_url("**/journeys")
    # then the index links the five journey pages
    for name in ("Journey map", "Pain points", "UX tasks", "Paths", "Funnels"):
        assert page.get_by_role("link", name=name).is_visible()
    page.screenshot(path=screenshots / "journeys-index-desktop.png", full_page=True)
    # when the map of March is opened
    page.goto(f"/journeys/map?{PERIOD}")
    # then the stage chart is drawn and each stage has its column, the delivery one with its NPS
    page.wait_for_selector("#journey-flow canvas")
    assert page.locator("section.stage").count() == 7
    delivery = page.locator("section.stage", has=page.get_by_role("heading", name="Delivery"))
    assert delivery.get_by_text("NPS -100").is_visible()
    page.screenshot(path=screenshots / "journey-map-desktop.png", full_page=True)
    # when the country filter is set, the page follows
    page.get_by_label("Country").select_option("PL")
    page.wait_for_url("**country=PL*")
    assert f"start={START.isoformat()}" in page.url  # the chosen dates stay
    assert page.locator("section.stage").nth(3).get_by_text("No events at this stage").is_visible()
    # when the pain points are opened: the ranking chart, the trend and the customer's words
    page.goto(f"/journeys/pain-points?{PERIOD}")
    page.wait_for_selector("#pain-ranking canvas")
    page.wait_for_selector("#trend-complaints canvas")
    first = page.locator("li.pain-point").first
    assert first.get_by_role("heading").inner_text().startswith("1. Delivery updates")
    assert page.get_by_text("Where is my sofa? Promised days ago.").is_visible()
    page.screenshot(path=screenshots / "pain-points-desktop.png", full_page=True)
    # when a checkout task is defined on the tasks page
    page.goto(f"/journeys/tasks?{PERIOD}")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_label("Start event").fill("checkout_start")
    page.get_by_label("Success event").fill("checkout_complete")
    page.get_by_label("Error events").fill("checkout_error")
    page.get_by_role("button", name="Save task").click()
    page.wait_for_url("**/journeys/tasks?task=*")
    # then it is listed, and its figures for March show 2 of 3 attempts done
    page.goto(page.url + f"&{PERIOD}")
    assert page.get_by_text("2 of 3 attempts").is_visible()
    page.wait_for_selector("#task-trend canvas")
    page.screenshot(path=screenshots / "journey-tasks-desktop.png", full_page=True)


def test_the_map_fits_a_phone(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    journey: Journey,
) -> None:
    page = signed_in_page(browser, live_server, journey.admin_email, PHONE)
    for path in (f"/journeys/map?{PERIOD}", f"/journeys/pain-points?{PERIOD}", "/journeys"):
        page.goto(path)
        # then nothing scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    page.goto(f"/journeys/map?{PERIOD}")
    page.wait_for_selector("#journey-flow canvas")
    page.screenshot(path=screenshots / "journey-map-phone.png", full_page=True)
