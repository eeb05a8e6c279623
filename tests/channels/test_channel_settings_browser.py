"""Channels in a real browser: an admin saves a channel's secret and sees it masked; a call in the inbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.channels import voice
from opencx.channels.schemas import CallEventIn
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


def test_a_missed_call_then_an_answered_call_read_well_in_the_inbox(
    browser, live_server: str, db_session: Session, tenant: Tenant, screenshots: Path
) -> None:
    # given a missed call, then the customer's call back with a transcript
    base = {"direction": "inbound", "from": "+31612345678", "to": "+31201234567"}
    events = [
        {**base, "call_id": "c1", "event": "missed", "occurred_at": "2026-11-20T09:00:00Z"},
        {**base, "call_id": "c2", "event": "answered", "occurred_at": "2026-11-20T09:20:05Z",
         "agent_email": tenant.admin_email},
        {**base, "call_id": "c2", "event": "ended", "occurred_at": "2026-11-20T09:22:05Z",
         "recording_url": "https://pbx.example/r/c2.mp3",
         "transcript": {"turns": [
             {"speaker": "agent", "text": "Goedemorgen, u had gebeld?", "offset_seconds": 1},
             {"speaker": "customer", "text": "Ja, mijn bank is nog steeds niet geleverd.",
              "offset_seconds": 5}]}},
    ]  # fmt: skip
    for event in events:
        voice.record_call_event(
            db_session, org_id=tenant.org_id, event=CallEventIn.model_validate(event)
        )
    db_session.commit()
    (call, _) = voice.list_calls(db_session, org_id=tenant.org_id)
    # when the agent opens the conversation in the inbox
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    page.goto(f"/inbox/{call.conversation_id}")
    messages = page.locator("#conversation-messages")
    # then the call, the transcript and the system's notes read in order
    messages.get_by_text("Missed call: call the customer back on +31612345678.").wait_for()
    text = messages.text_content() or ""
    for line in (
        "Missed call from +31612345678",
        "Phone call from +31612345678",
        "Answered the call",
        "Goedemorgen, u had gebeld?",
        "Ja, mijn bank is nog steeds niet geleverd.",
        "Call ended after 2 min 0 s.",
        "Recording: https://pbx.example/r/c2.mp3",
    ):
        assert line in text, line
    assert text.index("Missed call from") < text.index("Answered the call") < text.index("Ja, mijn")
    page.screenshot(path=screenshots / "inbox-voice-call.png", full_page=True)
