"""Paths and funnels in a real browser: the Sankey of the shop's paths, a funnel built and saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencx.journeys.funnels.schemas import MAX_STEPS
from tests.conftest import Tenant
from tests.journeys.funnels.conftest import Shop
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_paths_page_draws_the_sankey_and_filters_by_device(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    tenant: Tenant,
    shop: Shop,
) -> None:
    # given a manager on the paths page, which opens at the busiest touchpoint
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto("/journeys/paths?days=7")
    # then the Sankey is drawn and the paths and transitions are listed
    page.wait_for_selector("#paths-sankey canvas")
    assert page.get_by_label("Touchpoint", exact=True).input_value() in {"ad", "product"}
    assert page.locator("table.transitions-table tbody tr").count() == 2
    page.screenshot(path=screenshots / "journey-paths-desktop.png", full_page=True)
    # when the desktop device is chosen
    page.get_by_label("Device").select_option("desktop")
    page.wait_for_url("**device=desktop**")
    # then only Nora's moves remain
    page.wait_for_function(
        "document.querySelectorAll('table.transitions-table tbody tr').length === 2"
        " && document.querySelector('.transitions-table tbody td.num').textContent.trim() === '1'"
    )


def test_a_funnel_is_built_previewed_saved_and_viewed(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    tenant: Tenant,
    shop: Shop,
) -> None:
    # given the funnel builder
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto("/journeys/funnels?days=7")
    # when three steps are filled in and previewed
    page.locator("#step-0-type").fill("product_view")
    page.locator("#step-1-type").fill("add_to_cart")
    page.locator("#step-2-touchpoint").select_option("checkout")
    page.locator("#step-3-type").fill("purchase")
    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show funnel").click()
    # then the chart and the table show 3, 2, 1 visitors
    page.wait_for_selector("#funnel-chart canvas")
    visitors = page.locator("table.funnel-table").first.locator("tbody td:nth-child(2)")
    assert visitors.all_inner_texts() == ["3", "2", "1", "1"]
    page.screenshot(path=screenshots / "journey-funnel-preview.png", full_page=True)
    # when it is saved under a name
    page.get_by_label("Name (to save)").fill("Checkout")
    page.get_by_role("button", name="Save funnel").click()
    # then its own page shows it, and the list links to it
    page.wait_for_url("**/journeys/funnels/*")
    page.wait_for_selector("#funnel-chart canvas")
    assert page.get_by_role("heading", name="Checkout").is_visible()
    page.screenshot(path=screenshots / "journey-funnel-saved.png", full_page=True)
    page.goto("/journeys/funnels")
    assert page.get_by_role("link", name="Checkout").is_visible()


def test_the_builder_shows_four_steps_and_adds_more_up_to_the_limit(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    tenant: Tenant,
    shop: Shop,
) -> None:
    # given the funnel builder: four step rows show, the rest wait
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto("/journeys/funnels?days=7")
    rows = page.locator(".funnel-step")
    add = page.get_by_role("button", name="Add a step")
    assert rows.count() == MAX_STEPS
    page.wait_for_function("!document.getElementById('funnel-add-step').hidden")
    assert [rows.nth(n).is_visible() for n in range(MAX_STEPS)] == [True] * 4 + [False] * 4
    # when a step is added, the next row shows with its touchpoint focused
    add.click()
    assert rows.nth(4).is_visible()
    assert page.evaluate("document.activeElement.id") == "step-4-touchpoint"
    # and when every row shows, the button goes
    for _ in range(MAX_STEPS - 5):
        add.click()
    assert all(rows.nth(n).is_visible() for n in range(MAX_STEPS))
    assert not add.is_visible()
    # and an eight-step funnel can be shown
    for n, kind in enumerate(["ad_click", "product_view", "add_to_cart", "purchase"] * 2):
        page.locator(f"#step-{n}-type").fill(kind)
    page.get_by_role("button", name="Show funnel").click()
    page.wait_for_selector("#funnel-chart canvas")
    assert page.locator("table.funnel-table").first.locator("tbody tr").count() == MAX_STEPS


def test_a_funnel_with_an_unknown_step_says_why(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    tenant: Tenant,
    shop: Shop,
) -> None:
    page = signed_in_page(browser, live_server, tenant.admin_email, PHONE)
    page.goto("/journeys/funnels")
    page.locator("#step-0-type").fill("product_view")
    page.get_by_role("button", name="Show funnel").click()
    # a single step is not a funnel
    page.wait_for_selector("[role=alert]")
    assert "steps" in page.locator("[role=alert]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
