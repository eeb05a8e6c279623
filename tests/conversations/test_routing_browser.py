"""Routing in a real browser: a lead sets up a team and an agent; the agent goes online in the inbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.conversations import service as conversations
from opencx.conversations.routing import service as routing
from opencx.conversations.schemas import InboundMessageIn
from tests.conftest import PASSWORD, Tenant
from tests.conversations.conftest import inbound
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser

POLISH = "Dzień dobry, moja paczka jeszcze nie dotarła. Kiedy dostanę zamówienie?"


def test_a_lead_sets_up_routing_and_an_agent_going_online_takes_the_waiting_chat(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
) -> None:
    # given a manager and a Polish-speaking agent
    for email, name, role in [
        ("lead@acme.example", "Katarzyna Lead", Role.manager),
        ("kasia@acme.example", "Kasia Nowak", Role.agent),
    ]:
        auth_service.create_user(
            db_session, org_id=tenant.org_id, email=email, name=name, role=role,
            password=PASSWORD,
        )  # fmt: skip
    db_session.commit()
    lead = signed_in_page(browser, live_server, "lead@acme.example", DESKTOP)
    # when the lead creates the default team service-pl, least loaded
    lead.goto("/settings/routing")
    lead.get_by_label("New team").fill("service-pl")
    lead.get_by_label("Mode", exact=True).select_option("least_loaded")
    lead.get_by_label("default team").check()
    lead.get_by_role("button", name="Create team").click()
    lead.locator("#team-name-1").wait_for()
    # and gives the agent Polish, a skill and the team, and a rule for Polish
    lead.get_by_label("Languages of Kasia Nowak").fill("pl, en")
    lead.get_by_label("Skills of Kasia Nowak").fill("returns")
    row = lead.locator("tr", has_text="Kasia Nowak")
    row.get_by_label("service-pl").check()
    row.get_by_label("chat capacity of Kasia Nowak").fill("2")
    row.get_by_role("button", name="Save Kasia Nowak").click()
    lead.get_by_label("Language", exact=True).fill("pl")
    lead.get_by_role("button", name="Add rule").click()
    lead.get_by_text("language is pl").wait_for()
    # then the page shows the team, the rule and the agent's profile
    assert lead.get_by_label("Languages of Kasia Nowak").input_value() == "pl, en"
    assert lead.get_by_label("chat capacity of Kasia Nowak").input_value() == "2"
    lead.screenshot(path=screenshots / "routing-settings.png", full_page=True)
    # and on a phone the page does not scroll sideways beyond its tables
    lead.set_viewport_size(PHONE)
    assert lead.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    lead.context.close()
    # given a Polish chat arriving while the agent is offline: it waits in the team's queue
    kasia_id = next(
        u.id for u in auth_service.list_users(db_session, org_id=tenant.org_id)
        if u.email == "kasia@acme.example"
    )  # fmt: skip
    result = conversations.record_inbound_message(
        db_session,
        org_id=tenant.org_id,
        data=InboundMessageIn.model_validate(inbound(channel="chat", sender="v1", body=POLISH)),
    )
    db_session.commit()
    assert result.conversation.assignee_id is None
    # when the agent opens the inbox, sees the queue, and switches to online
    agent = signed_in_page(browser, live_server, "kasia@acme.example", DESKTOP)
    agent.goto("/inbox")
    assert agent.locator("#my-presence").inner_text() == "offline"
    assert agent.get_by_role("link", name="service-pl 1 waiting").is_visible()
    agent.get_by_label("Set my presence").select_option("online")
    agent.locator("#my-presence", has_text="online").wait_for()
    # then the waiting chat is theirs: it is in Mine
    agent.goto("/inbox?view=mine")
    agent.locator(".conversation-row").first.wait_for()
    assert agent.locator(".conversation-row").count() == 1
    agent.screenshot(path=screenshots / "inbox-presence.png", full_page=False)
    agent.context.close()
    db_session.expire_all()
    stored = routing.get_agent(db_session, org_id=tenant.org_id, user_id=kasia_id)
    assert stored.presence.value == "online" and stored.load == {"chat": 1}
