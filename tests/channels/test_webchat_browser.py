"""Web chat and the inbox in a real browser: a visitor writes, an agent answers live, and back.

Two browser contexts (two people): the visitor on /chat/demo with the widget, the agent signed in
on /inbox. Nothing reloads: markers set on both pages must survive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from tests.conftest import PASSWORD, Tenant
from tests.web.test_browser import DESKTOP, PHONE, signed_in_page

pytestmark = pytest.mark.browser


def _widget(chromium, base_url: str, lang: str, org: str):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport=PHONE, base_url=base_url, is_mobile=True)
    page = context.new_page()
    page.goto(f"/chat/demo?org={org}&lang={lang}")
    return page


def test_visitor_writes_agent_sees_it_live_replies_and_the_visitor_sees_the_reply(
    browser, live_server: str, db_session: Session, tenant: Tenant, screenshots: Path
) -> None:
    auth_service.create_user(
        db_session,
        org_id=tenant.org_id,
        email="sam@acme.example",
        name="Sam Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    # given an agent with the inbox open
    agent = signed_in_page(browser, live_server, "sam@acme.example", DESKTOP)
    agent.goto("/inbox")
    agent.evaluate("window.stillTheSamePage = true")
    agent.wait_for_function("window.opencxInbox && window.opencxInbox.readyState === 1")
    # and a visitor on the shop's Dutch page, who opens the chat
    visitor = _widget(browser, live_server, "nl", tenant.slug)
    visitor.get_by_role("button", name="Chat met ons").click()
    dialog = visitor.get_by_role("dialog", name="Chat met ons")
    # then the widget speaks Dutch and says someone is online
    visitor.get_by_text("We zijn online en antwoorden zo.").wait_for()
    # when the visitor writes (Enter sends)
    box = dialog.get_by_label("Uw bericht")
    box.fill("Hallo, waar blijft mijn bestelling WEB-1001?")
    box.press("Enter")
    dialog.locator(".msg.inbound:not(.pending)").wait_for()
    visitor.screenshot(path=screenshots / "webchat-phone.png")
    # then it appears in the agent's inbox without a reload
    row = agent.locator(".conversation-row", has_text="waar blijft mijn bestelling")
    row.wait_for(timeout=10_000)
    assert agent.evaluate("window.stillTheSamePage") is True
    # when the agent opens it with the keyboard (j) and replies (r)
    agent.keyboard.press("j")
    agent.wait_for_url("**/inbox/*")
    agent.locator("#conversation-messages").get_by_text("waar blijft mijn bestelling").wait_for()
    agent.keyboard.press("r")
    agent.keyboard.type("Uw pakket komt morgen, excuses voor het wachten.")
    agent.get_by_role("button", name="Send reply").click()
    agent.locator("#conversation-messages .message.outbound").wait_for()
    agent.screenshot(path=screenshots / "inbox-desktop.png", full_page=True)
    # and the inbox fits a phone as well
    agent.set_viewport_size(PHONE)
    assert agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    agent.screenshot(path=screenshots / "inbox-phone.png", full_page=True)
    agent.set_viewport_size(DESKTOP)
    # then the visitor sees the reply in the widget
    dialog.locator(".msg.outbound", has_text="Uw pakket komt morgen").wait_for(timeout=10_000)
    visitor.screenshot(path=screenshots / "webchat-phone-reply.png")
    # and after a reload the conversation is still there
    visitor.reload()
    visitor.get_by_role("dialog", name="Chat met ons").locator(".msg.outbound").wait_for()
    assert (
        visitor.locator("#opencx-chat").evaluate(
            "host => host.shadowRoot.querySelectorAll('.msg').length"
        )
        == 2
    )
    # and the widget fits a phone screen
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # when the agent presses ? the shortcuts are listed; a assigns to them; e resolves
    agent.keyboard.press("Escape")
    agent.keyboard.press("?")
    shortcuts = agent.get_by_role("dialog", name="Keyboard shortcuts")
    shortcuts.wait_for()
    agent.keyboard.press("Escape")
    shortcuts.wait_for(state="hidden")
    agent.keyboard.press("a")
    agent.get_by_text("assigned to Sam Agent").wait_for()
    agent.keyboard.press("e")
    agent.locator("#conversation-head .status-resolved").wait_for()


def test_with_no_agent_online_the_widget_says_so_and_takes_an_email_address(
    browser, live_server: str, tenant: Tenant, screenshots: Path
) -> None:
    # given nobody has the inbox open, and a Polish page
    visitor = _widget(browser, live_server, "pl", tenant.slug)
    visitor.get_by_role("button", name="Czat z nami").click()
    dialog = visitor.get_by_role("dialog", name="Czat z nami")
    # then the widget says no one is online, in Polish, and offers the email field
    dialog.get_by_text("Nikt nie jest teraz dostępny").wait_for()
    dialog.get_by_label("Twoja wiadomość").fill("Czy lampa jest dostępna?")
    dialog.get_by_role("button", name="Wyślij").click()
    dialog.locator(".msg.inbound:not(.pending)").wait_for()
    dialog.get_by_label("Twój adres e-mail").fill("zofia@example.pl")
    dialog.get_by_role("button", name="Zapisz").click()
    # then it confirms where the answer will go
    dialog.get_by_text("Odpowiemy na adres zofia@example.pl").wait_for()
    visitor.screenshot(path=screenshots / "webchat-phone-offline.png")
    # and Escape closes the chat, returning focus to the launcher
    visitor.keyboard.press("Escape")
    launcher = visitor.get_by_role("button", name="Czat z nami")
    launcher.wait_for()
    assert launcher.evaluate("b => b.getRootNode().activeElement === b")
