"""The service desk report in a real browser: the whole desk, weekly trends, per agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics.test_service_desk_measures import Desk, desk  # noqa: F401
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_team_lead_reads_the_desk_report_per_agent(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    desk: Desk,  # noqa: F811
) -> None:
    # given a team lead signed in, and a week of conversations synced to the analytics store
    page = signed_in_page(browser, live_server, desk.lead_email, DESKTOP)
    # when they follow "Desk report" in the menu and choose the last 4 weeks per agent
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Desk report").click()
    page.wait_for_url("**/service-desk/report")
    page.get_by_label("Period").select_option("4")
    page.wait_for_url("**/service-desk/report?weeks=4&by=channel")
    page.get_by_label("Group by").select_option("agent")
    page.wait_for_url("**/service-desk/report?weeks=4&by=agent")
    # then the headline holds the whole desk: 11 conversations, FCR 5 of 7 resolved
    assert page.locator("#stat-conversations").inner_text() == "11"
    assert page.locator("#stat-fcr").inner_text() == "71%"
    # and the three weekly trends are drawn
    for chart in ("chart-first-response", "chart-fcr", "chart-reopen"):
        page.wait_for_selector(f"#{chart} canvas")
        box = page.locator(f"#{chart} canvas").first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 150
    # and each agent has a row: Bo's median first response is 9 minutes
    rows = page.locator("#desk-groups tbody tr")
    assert rows.count() == 3
    bo = rows.filter(has=page.get_by_role("rowheader", name="Bo"))
    assert bo.locator("td").nth(1).inner_text() == "9 min"
    page.screenshot(path=screenshots / "service-desk-report-desktop.png", full_page=True)


def test_the_report_fits_a_phone(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    desk: Desk,  # noqa: F811
) -> None:
    page = signed_in_page(browser, live_server, desk.lead_email, PHONE)
    page.goto("/service-desk/report?weeks=4&by=team")
    page.wait_for_selector("#chart-fcr canvas")
    assert page.locator("#desk-groups tbody tr").count() == 3
    page.screenshot(path=screenshots / "service-desk-report-phone.png", full_page=True)
    page.locator("#desk-groups").screenshot(path=screenshots / "service-desk-groups-phone.png")
    # then nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
