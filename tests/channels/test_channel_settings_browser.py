"""Settings -> Channels in a real browser: an admin saves a channel's secret and sees it masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Tenant
from tests.web.test_browser import DESKTOP, PHONE, signed_in_page

pytestmark = pytest.mark.browser


def test_an_admin_saves_messenger_settings_and_sees_only_the_secrets_end(
    browser, live_server: str, tenant: Tenant, screenshots: Path
) -> None:
    # given the admin on Settings -> Channels
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto("/settings")
    page.get_by_role("link", name="Channels: WhatsApp").click()
    messenger = page.locator("section#messenger")
    assert "Webhook off" in messenger.text_content() or ""
    # when they paste the app secret and the page token and save
    messenger.get_by_label("App secret (checks X-Hub-Signature-256)").fill("fb-app-secret-1234wxyz")
    messenger.get_by_label("Page access token (sends replies)").fill("EAAG-page-token-5678")
    messenger.get_by_role("button", name="Save Facebook Messenger").click()
    # then the page says so, the webhook and replies are on, and the secrets show only their end
    page.get_by_text("Facebook Messenger settings saved.").wait_for()
    messenger = page.locator("section#messenger")
    text = messenger.text_content() or ""
    assert "Webhook on" in text and "Replies on" in text
    assert "…wxyz" in text and "fb-app-secret" not in page.content()
    assert f"/api/v1/channels/messenger/{tenant.slug}" in text
    page.screenshot(path=screenshots / "channel-settings-desktop.png", full_page=True)
    # and the page fits a phone
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "channel-settings-phone.png", full_page=True)
