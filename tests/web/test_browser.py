"""The web app in a real browser: Playwright driving Debian's chromium against a live server.

Screenshots go to $OPENCX_SCREENSHOT_DIR when set (to look at them), else to the test's tmp dir.
Without /usr/bin/chromium these tests skip, unless OPENCX_REQUIRE_BROWSER=1: then they fail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import PASSWORD, Tenant
from tests.web.conftest import Shop

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


# One browser per module: Playwright's sync API keeps an event loop running until it stops.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("OPENCX_REQUIRE_BROWSER") == "1":
            pytest.fail(f"OPENCX_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(settings_env: Path) -> Iterator[str]:
    """The real app served by uvicorn on a free localhost port, against the test database."""
    from opencx.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OPENCX_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in_page(browser, base_url: str, email: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    """A new page, signed in through the login form."""
    context = browser.new_context(viewport=viewport, base_url=base_url)
    page = context.new_page()
    page.goto("/customers")
    assert "/login" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    return page


def test_sign_in_search_live_and_open_a_customer(
    browser, live_server: str, tenant: Tenant, shop: Shop, screenshots: Path
) -> None:
    # given a user signed in through the form
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    assert page.get_by_role("heading", name="Overview").is_visible()
    # when they open the customer list
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Customers", exact=True
    ).click()
    page.wait_for_url("**/customers")
    rows = page.locator("#customer-results tbody tr")
    assert rows.count() == 3
    page.screenshot(path=screenshots / "customers-desktop.png", full_page=True)
    # and type in the search box (a marker shows the page is not reloaded)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Search").press_sequentially("bram", delay=40)
    # then htmx swaps in the filtered results and puts the search in the address bar
    page.wait_for_url("**/customers?q=bram*")
    page.wait_for_function("document.querySelectorAll('#customer-results tbody tr').length === 1")
    assert rows.first.get_by_role("link").inner_text() == "Bram Peeters"
    assert page.evaluate("window.stillTheSamePage") is True
    # when the segment filter changes, the results follow without a reload as well
    page.get_by_label("Search").fill("")
    page.get_by_label("Segment").select_option("loyal")
    page.wait_for_function("document.querySelectorAll('#customer-results tbody tr').length === 2")
    assert page.evaluate("window.stillTheSamePage") is True
    # when a customer is opened
    page.get_by_role("link", name="Anna de Vries").click()
    page.wait_for_url(f"**/customers/{shop.anna_id}")
    # then the timeline and the consent grid are there
    timeline = page.locator("ol.timeline > li")
    assert timeline.count() == 9
    assert page.get_by_text("Delivery delayed: order WEB-1001").is_visible()
    grid = page.locator("table.consent-grid")
    assert grid.get_by_text("✗ Withdrawn").is_visible()
    assert grid.get_by_text("✓ Granted").is_visible()
    # and the activity chart is drawn
    page.wait_for_selector("#activity-chart canvas")
    page.screenshot(path=screenshots / "customer-desktop.png", full_page=True)
    # when the timeline is filtered on orders, only the order stays (swapped in by htmx)
    page.get_by_role("link", name="Order (1)").click()
    page.wait_for_url(f"**/customers/{shop.anna_id}?kind=order*")
    page.wait_for_function("document.querySelectorAll('ol.timeline > li').length === 1")
    assert page.locator("ol.timeline > li.kind-order").count() == 1


def test_search_form_works_without_javascript(
    browser, live_server: str, tenant: Tenant, shop: Shop
) -> None:
    # given a browser with JavaScript switched off
    context = browser.new_context(java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(tenant.admin_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/customers")
    # when a search is typed and the form submitted
    page.get_by_label("Search").fill("anna@example.nl")
    page.get_by_role("button", name="Search").click()
    # then the page reloads with the match
    page.wait_for_url("**/customers?q=anna%40example.nl*")
    assert page.locator("#customer-results tbody tr").count() == 1
    assert page.get_by_role("link", name="Anna de Vries").is_visible()
    context.close()


def test_overview_draws_the_orders_per_week_chart(
    browser, live_server: str, tenant: Tenant, shop: Shop, screenshots: Path
) -> None:
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    # then the overview shows the figures and ECharts draws on a canvas
    page.wait_for_selector("#orders-per-week canvas")
    assert page.locator("#stat-customers").inner_text() == "3"
    box = page.locator("#orders-per-week canvas").first.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 200
    page.screenshot(path=screenshots / "overview-desktop.png", full_page=True)


def test_phone_layout_collapses_the_menu_and_fits_the_screen(
    browser, live_server: str, tenant: Tenant, shop: Shop, screenshots: Path
) -> None:
    # given a phone-sized screen
    page = signed_in_page(browser, live_server, tenant.admin_email, PHONE)
    nav = page.get_by_role("navigation", name="Main")
    # then the menu is folded away behind a button
    assert not nav.is_visible()
    menu = page.locator("label[for=nav-toggle]")
    assert menu.is_visible()
    page.wait_for_selector("#orders-per-week canvas")
    page.screenshot(path=screenshots / "overview-phone.png", full_page=True)
    # when the menu button is tapped, the navigation opens
    menu.click()
    assert nav.is_visible()
    page.screenshot(path=screenshots / "menu-open-phone.png")
    # and a keyboard reaches the menu toggle (after the skip link and the brand) and closes it
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "nav-toggle"
    page.keyboard.press("Space")
    assert nav.is_visible()
    page.keyboard.press("Space")
    assert not nav.is_visible()
    # and the customer pages fit the screen: nothing wider than the phone
    for path, name in [("/customers", "customers"), (f"/customers/{shop.anna_id}", "customer")]:
        page.goto(path)
        page.wait_for_load_state("load")
        if name == "customer":
            page.wait_for_selector("#activity-chart canvas")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"
        page.screenshot(path=screenshots / f"{name}-phone.png", full_page=True)
