"""The overview in a real browser: filters kept in the URL, a CSV and a PNG download, and a new
survey response appearing without a reload (Playwright, Debian's chromium, a live server)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from tests.analytics.conftest import B_START, Feedback, make_customer, record_score
from tests.surveys.conftest import NOW
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser
TODAY = NOW.date()


def nps_responses(page) -> int:  # type: ignore[no-untyped-def]
    """The number of NPS responses the NPS tile reports."""
    text = page.locator("#tile-nps").inner_text()
    return int(text.split(" responses")[0].split()[-1].replace(",", ""))


def test_filters_downloads_and_a_live_update(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    db_session: Session,
    feedback: Feedback,
    screenshots: Path,  # noqa: F811
) -> None:
    # given a manager on the overview of period B
    page = signed_in_page(browser, live_server, feedback.manager_email, DESKTOP)
    page.goto(f"/?period=custom&start={B_START}&end={TODAY}")
    page.wait_for_selector("#chart-trend-nps canvas")
    everyone = nps_responses(page)
    assert everyone == 18
    # when she picks a country, the sections change without a reload and the URL keeps it
    page.evaluate("window.notReloaded = true")
    page.select_option("#overview-country", "NL")
    page.wait_for_url("**country=NL**")
    page.wait_for_selector("#chart-trend-nps canvas")
    dutch = nps_responses(page)
    assert 0 < dutch < everyone
    assert page.evaluate("window.notReloaded") is True
    assert "period=custom" in page.url and f"start={B_START}" in page.url
    # and the NPS trend's CSV holds the filtered weeks, named after the period and country
    with page.expect_download() as download_info:
        page.locator('#section-scores [data-chart-csv="trend-nps"]').click()
    download = download_info.value
    assert download.suggested_filename == f"trend-nps_{B_START}_{TODAY}_NL.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert rows[0] == ["week_start", "nps", "low_95", "high_95", "responses"]
    in_period = [row for row in rows[1:] if row[0] >= B_START.isoformat()]
    assert sum(int(row[4]) for row in in_period) == dutch
    # and the chart saves as a PNG image
    with page.expect_download() as png_info:
        page.locator('[data-png-chart="chart-trend-nps"]').click()
    png = png_info.value
    assert png.suggested_filename == f"trend-nps_{B_START}_{TODAY}.png"
    assert Path(png.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.screenshot(path=screenshots / "overview-filtered.png", full_page=True)
    # when a Dutch customer answers the NPS survey and the sync copies it
    customer_id = make_customer(db_session, feedback.org_id, 6000, country="NL")
    record_score(
        db_session,
        org_id=feedback.org_id,
        survey_id=feedback.nps_survey_id,
        customer_id=customer_id,
        score=10,
        at=NOW - timedelta(minutes=5),
        agent_id=None,
        touchpoint_id=feedback.chat_id,
    )
    db_session.commit()
    sync_to_analytics()
    # then the open page counts it without a reload (it polls every 10 s)
    page.wait_for_function(
        "n => document.querySelector('#tile-nps').innerText.includes((n + 1) + ' responses')",
        arg=dutch,
        timeout=30_000,
    )
    assert page.evaluate("window.notReloaded") is True
    page.wait_for_selector("#chart-trend-nps canvas")


def test_the_overview_fits_a_phone(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    feedback: Feedback,
    screenshots: Path,  # noqa: F811
) -> None:
    page = signed_in_page(browser, live_server, feedback.manager_email, PHONE)
    page.goto(f"/?period=custom&start={B_START}&end={TODAY}")
    page.wait_for_selector("#chart-trend-nps canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "overview-phone-scores.png", full_page=True)
