"""The issue's "done when", in one run: a survey built in the web UI, sent by real SMTP,
answered on a phone-sized page in a real browser, and the answer in the metrics credited to the
right agent and touchpoint."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.analytics import service as analytics
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service
from opencx.surveys.schemas import InvitationIn
from tests.conftest import PASSWORD, Tenant
from tests.surveys.conftest import Mailbox, make_customer, wait_for_jobs
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_built_sent_by_smtp_answered_on_a_phone_and_credited_to_agent_and_touchpoint(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
    mailbox: Mailbox,
) -> None:
    # given a manager, an agent of team service-nl, the chat touchpoint and a Dutch customer
    # who agreed to surveys by email
    auth.create_user(
        db_session,
        org_id=tenant.org_id,
        email="manager@acme.example",
        name="Mia Manager",
        role=Role.manager,
        password=PASSWORD,
    )
    agent = auth.create_user(
        db_session,
        org_id=tenant.org_id,
        email="daan@acme.example",
        name="Daan Bakker",
        role=Role.agent,
        password=PASSWORD,
    )
    (chat,) = journeys.upsert_touchpoints(
        db_session,
        org_id=tenant.org_id,
        touchpoints=[
            TouchpointIn(
                key="live-chat",
                name="Live chat",
                stage="service",
                channel="chat",
                is_online=True,
                department="service",
            )
        ],
    )
    customer_id = make_customer(db_session, tenant.org_id, "Anna", "nl", channel="email")
    db_session.commit()
    # when the manager builds a CSAT survey in the web UI and publishes it
    page = signed_in_page(browser, live_server, "manager@acme.example", DESKTOP)
    page.goto("/surveys")
    page.get_by_label("Name").fill("Na het chatgesprek")
    page.get_by_label("Start from").select_option("csat")
    page.get_by_role("button", name="Create and edit").click()
    page.wait_for_url("**/surveys/*/edit")
    survey_id = int(page.url.split("/")[-2])
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url("**/edit?done=published")
    # and Anna is invited by email after her chat with Daan
    invitation = service.create_invitation(
        db_session,
        org_id=tenant.org_id,
        survey_id=survey_id,
        data=InvitationIn(
            customer_id=customer_id,
            channel="email",
            touchpoint_id=chat.id,
            agent_id=agent.id,
            team="service-nl",
            send_email=True,
        ),
    )
    db_session.commit()
    wait_for_jobs()
    # then the invitation arrived through the SMTP server, in Dutch, with her link
    (message,) = mailbox.to("anna@example.com")
    link = re.search(r"https://cx\.acme\.example(/s/\S+)", message.get_content())
    assert link is not None and link[1] == invitation.path
    # when she opens the link from the email on her phone and answers 5 of 5 with a reason
    phone = browser.new_context(viewport=PHONE, base_url=live_server).new_page()
    phone.goto(link[1])
    phone.get_by_text("5", exact=True).click()
    phone.get_by_label("Wat is de belangrijkste reden").fill("Daan loste het meteen op")
    phone.get_by_role("button", name="Versturen").click()
    phone.get_by_role("heading", name="Bedankt voor uw feedback!").wait_for()
    phone.screenshot(path=screenshots / "survey-end-to-end-thanks-phone.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # then, after the sync, the CSAT is credited to Daan and to the live chat
    sync_to_analytics()
    today = datetime.now(UTC).date()
    period = {"start": today - timedelta(days=7), "end": today + timedelta(days=1)}
    by_agent = analytics.compute_survey_scores(
        db_session, org_id=tenant.org_id, metric="csat", by="agent", grain="none", **period
    )
    by_touchpoint = analytics.compute_survey_scores(
        db_session, org_id=tenant.org_id, metric="csat", by="touchpoint", grain="none", **period
    )
    by_team = analytics.compute_survey_scores(
        db_session, org_id=tenant.org_id, metric="csat", by="team", grain="none", **period
    )
    assert [(s.key, s.label, s.responses, s.value) for s in by_agent] == [
        (agent.id, "Daan Bakker", 1, 1.0)
    ]
    assert [(s.key, s.label, s.responses) for s in by_touchpoint] == [(chat.id, "Live chat", 1)]
    assert [(s.key, s.responses) for s in by_team] == [("service-nl", 1)]
    # and the manager sees it on the survey's results, broken down by agent
    page.goto(f"/surveys/{survey_id}/results?weeks=4&by=agent")
    row = page.locator("#breakdowns tbody tr")
    assert row.count() == 1 and "Daan Bakker" in row.inner_text()
    page.screenshot(path=screenshots / "survey-end-to-end-results.png", full_page=True)
