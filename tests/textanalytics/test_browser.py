"""The text analytics settings page in a real browser: learn, then read both models' quality."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.textanalytics import service
from tests.conftest import Tenant
from tests.textanalytics.conftest import RatedWorld
from tests.textanalytics.test_topics import themed  # noqa: F401
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_a_manager_learns_from_rated_comments_in_the_browser(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    tenant: Tenant,
    rated_world: RatedWorld,
) -> None:
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto("/settings")
    page.get_by_role("link", name="Text analytics").click()
    page.get_by_role("button", name="Learn now").click()
    table = page.locator("#sentiment-models")
    row = table.get_by_role("row").filter(has_text="60 negative, 60 positive")
    row.wait_for()
    assert "learned" in row.locator('td[data-label="Used"]').inner_text()
    assert page.locator("#last-trained").inner_text() != "never"
    page.screenshot(path=screenshots / "text-analytics-settings.png", full_page=True)


def test_a_manager_explores_renames_and_merges_topics_in_the_browser(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
    themed: list[int],  # noqa: F811
) -> None:
    # given the organization's topics learned from fifty messages of two themes
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    # when the manager opens Insights
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    page.wait_for_url("**/insights/topics")
    rows = page.locator("#topics tbody tr[data-topic]")
    assert rows.count() == 2
    late = rows.filter(has_text="late").first
    # and shows a topic's example texts
    late.get_by_role("button", name="Show texts").click()
    examples = page.locator(".topic-example-list li")
    examples.first.wait_for()
    assert "late" in examples.first.inner_text().lower()
    page.screenshot(path=screenshots / "topics-explorer.png", full_page=True)
    # and renames it
    late.get_by_text("Rename").click()
    late.get_by_label("New name").fill("Late deliveries")
    late.get_by_role("button", name="Save name").click()
    page.locator(".topic-name", has_text="Late deliveries").wait_for()
    # and merges the other topic into it
    other = page.locator("#topics tbody tr[data-topic]").filter(has_not_text="Late deliveries")
    other.get_by_role("checkbox").check()
    page.get_by_label("Merge the selected topics into").select_option(label="Late deliveries (en)")
    page.get_by_role("button", name="Merge", exact=True).click()
    # then one topic holds all fifty texts
    page.wait_for_function("document.querySelectorAll('#topics tbody tr[data-topic]').length === 1")
    merged = page.locator("#topics tbody tr[data-topic]")
    assert "Late deliveries" in merged.inner_text()
    assert merged.locator('td[data-label="Texts"]').inner_text() == "50"
    assert "includes 1 merged topic" in merged.inner_text()
    page.screenshot(path=screenshots / "topics-merged.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "topics-phone.png", full_page=True)
