"""The text analytics settings page in a real browser: learn, then read both models' quality."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Tenant
from tests.textanalytics.conftest import RatedWorld
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
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
