"""The breaching queue, SLA badges and SLA settings in a real browser (Debian's chromium)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.conversations import service, sla, tasks
from opencx.conversations.schemas import InboundMessageIn, SlaPolicyIn
from opencx.db import utcnow
from tests.conftest import Tenant
from tests.web.test_browser import DESKTOP, PHONE, browser, live_server, screenshots, signed_in_page

pytestmark = pytest.mark.browser
__all__ = ["browser", "live_server", "screenshots"]


def _write(db: Session, tenant: Tenant, channel: str, sender: str, minutes_ago: int) -> int:
    data = InboundMessageIn.model_validate(
        {
            "channel": channel,
            "channel_message_id": f"{sender}-1",
            "sender": {"kind": "social", "namespace": channel, "value": sender},
            "sender_name": "Anna de Vries",
            "body": f"Waar blijft mijn pakket? ({channel})",
            "received_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
        }
    )
    conversation_id = service.record_inbound_message(db, org_id=tenant.org_id, data=data)
    db.commit()
    return conversation_id.conversation.id


def test_the_breaching_queue_shows_overdue_and_near_due_conversations_live(
    browser,  # type: ignore[no-untyped-def]
    live_server: str,
    db_session: Session,
    tenant: Tenant,
    screenshots: Path,
) -> None:
    # given calendar-time targets: chat 2 min, WhatsApp 30 min, Telegram 8 h
    for channel, minutes in (("chat", 2), ("whatsapp", 30), ("telegram", 480)):
        sla.set_sla_policy(
            db_session,
            org_id=tenant.org_id,
            data=SlaPolicyIn(
                channel=channel,
                priority="normal",
                first_response_minutes=minutes,
                resolution_minutes=24 * 60,
                business_hours=False,
            ),
        )
    db_session.commit()
    _write(db_session, tenant, "chat", "visitor-a", minutes_ago=9)  # overdue
    _write(db_session, tenant, "whatsapp", "+31600000001", minutes_ago=26)  # 4 min left
    _write(db_session, tenant, "telegram", "777", minutes_ago=5)  # hours left
    # when an agent opens the breaching queue
    agent = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    agent.clock.install()  # time flows as usual until the test moves it forward
    agent.goto("/inbox?view=breaching")
    agent.wait_for_function("window.opencxInbox && window.opencxInbox.readyState === 1")
    rows = agent.locator(".conversation-row")
    # then the overdue chat comes first, then the WhatsApp conversation; Telegram is not there
    assert rows.count() == 2
    assert "overdue" in rows.nth(0).locator(".sla-breached").inner_text()
    assert "due in" in rows.nth(1).locator(".sla-warning").inner_text()
    assert agent.get_by_role("link", name="Breaching 2").is_visible()
    # when another customer's chat arrives already overdue, it appears without a reload
    agent.evaluate("window.stillTheSamePage = true")
    _write(db_session, tenant, "chat", "visitor-b", minutes_ago=30)
    agent.locator(".conversation-row").nth(2).wait_for(timeout=10_000)
    assert agent.evaluate("window.stillTheSamePage") is True
    assert agent.locator(".conversation-row").nth(0).locator(".sla-breached").count() == 1
    # and five minutes later, with no event, the WhatsApp countdown has turned overdue
    whatsapp = agent.locator(".conversation-row", has_text="(whatsapp)").locator(".sla")
    assert "due in" in whatsapp.inner_text()
    agent.clock.fast_forward("05:00")
    agent.wait_for_function(
        "document.querySelector('.conversation-row .sla-breached[data-sla-target]') &&"
        " [...document.querySelectorAll('.sla')].every(b => b.textContent.includes('overdue'))"
    )
    assert "sla-breached" in (whatsapp.get_attribute("class") or "")
    # and opening a conversation shows its badge beside status and priority
    rows.nth(0).click()
    agent.wait_for_url("**/inbox/*")
    assert "first response overdue" in agent.locator(".conversation-head").inner_text()
    agent.screenshot(path=screenshots / "inbox-breaching.png", full_page=True)
    agent.set_viewport_size(PHONE)
    assert agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    agent.set_viewport_size(DESKTOP)
    # and the settings page shows the targets and lets a manager set business hours
    agent.goto("/settings/sla")
    agent.get_by_label("Team (empty: the default)").fill("Service PL")
    agent.get_by_label("Time zone").fill("Europe/Warsaw")
    agent.get_by_label("Holidays (one date a line, YYYY-MM-DD)").fill("2026-12-24")
    agent.locator("#hours-form button[type=submit]").click()
    agent.wait_for_url("**/settings/sla")
    table = agent.locator("#business-hours")
    assert "Service PL" in table.inner_text() and "2026-12-24" in table.inner_text()
    agent.screenshot(path=screenshots / "sla-settings.png", full_page=True)
    # and once the breaches are marked and synced, the team lead sees attainment per channel
    tasks.check_slas()
    sync_to_analytics()
    agent.goto("/sla/attainment?by=channel")
    attainment = agent.locator("#sla-attainment").inner_text()
    assert "chat" in attainment and "0% (0 of 2)" in attainment
    agent.screenshot(path=screenshots / "sla-attainment.png", full_page=True)
