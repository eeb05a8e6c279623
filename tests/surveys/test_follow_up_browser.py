"""The follow-up pages in a real browser: a team lead filters, opens a detractor and closes the loop."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.surveys import service as surveys
from opencx.surveys.follow_ups.models import FollowUpStatus, SurveyFollowUp
from tests.conftest import Tenant
from tests.surveys.conftest import World, invite
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    browser,
    live_server,
    screenshots,
    signed_in_page,
)

pytestmark = pytest.mark.browser


def test_a_lead_contacts_and_resolves_a_detractor(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    world: World,
    tenant: Tenant,
) -> None:
    # given two detractor answers, one with a comment
    for customer, why in [(world.anna_id, "De bank kwam te laat"), (world.jane_id, "")]:
        surveys.record_answers(
            db_session,
            token=invite(db_session, world, customer, team="Service NL"),
            form={"shown": ["score", "why"], "q_score": ["2"], "q_why": [why]},
        )
    db_session.commit()
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    # when the admin opens the follow-ups and filters on status "open" (htmx swaps the table)
    page.goto("/surveys/follow-ups")
    assert page.get_by_text("2 follow-ups.").is_visible()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_text("No follow-ups with status resolved.").wait_for()
    assert "status=resolved" in page.url
    page.get_by_label("Status").select_option("open")
    page.get_by_text("2 follow-ups.").wait_for()
    page.screenshot(path=screenshots / "follow-ups-list.png", full_page=True)
    # and opens the first one and records the call with a note
    page.get_by_role("link", name="#1").first.click()
    assert page.get_by_text("De bank kwam te laat").is_visible()
    page.get_by_label("Status").select_option("contacted")
    page.get_by_label("Note (optional)").fill("Called Anna, refund promised")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Called Anna, refund promised").wait_for()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Save").click()
    # then the page shows it resolved with both steps in the history
    page.locator("#follow-up-status", has_text="resolved").wait_for()
    assert page.locator("#notes li").count() == 2
    page.screenshot(path=screenshots / "follow-up-detail.png", full_page=True)
    # and on a phone the page does not scroll sideways
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "follow-up-detail-phone.png", full_page=True)
    page.context.close()
    db_session.expire_all()
    statuses = db_session.scalars(select(SurveyFollowUp.status).order_by(SurveyFollowUp.id)).all()
    assert statuses == [FollowUpStatus.resolved, FollowUpStatus.open]
