"""The text analytics settings page in a real browser: learn, then read both models' quality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.textanalytics import service
from tests.conftest import PASSWORD, Tenant
from tests.surveys.conftest import make_customer
from tests.textanalytics.conftest import RatedWorld, send_message
from tests.textanalytics.test_topics import themed  # noqa: F401
from tests.web.test_browser import (  # noqa: F401
    DESKTOP,
    PHONE,
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


COMPLAINTS = [
    "The parcel arrived broken and a week late",
    "Nobody answered my emails, terrible service",
    "De bestelling kwam te laat en was kapot",
    "Paczka się spóźniła i była zepsuta",
    "I am still waiting for my refund, very disappointed",
]
PRAISE = [
    "Great service, fast delivery, thank you",
    "Snel geleverd en heel vriendelijk geholpen",
    "Szybka dostawa, polecam!",
    "The agent was friendly and solved it at once",
]


def _feelings_world(session: Session, org_id: int) -> int:
    """Comments at three touchpoints about two agents over six weeks, and customer emails."""
    org = auth.get_organization(session, org_id=org_id)
    org.settings = {**org.settings, "survey_throttle_days": 0}
    touchpoints = journeys.upsert_touchpoints(
        session,
        org_id=org_id,
        touchpoints=[
            TouchpointIn(key=key, name=name, stage=stage, channel=channel, is_online=True,
                         department="service")
            for key, name, stage, channel in (
                ("delivery", "Home delivery", "delivery", "email"),
                ("checkout", "Web shop checkout", "purchase", "web"),
                ("helpdesk", "Customer service", "service", "chat"),
            )
        ],
    )  # fmt: skip
    agents = [
        auth.create_user(
            session, org_id=org_id, email=f"{name}@acme.example", name=name.title(),
            role=Role.agent, password=PASSWORD,
        ).id
        for name in ("ada", "bo")
    ]  # fmt: skip
    survey = surveys.create_survey(
        session, org_id=org_id, data=SurveyIn(name="After delivery", kind="nps")
    )
    surveys.publish_survey(session, org_id=org_id, survey_id=survey.id)
    customers = {
        channel: make_customer(session, org_id, name, "en", channel=channel)
        for name, channel in (("Emma", "email"), ("Jan", "chat"))
    }
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(36):
        at = now - timedelta(days=37 - n, hours=n % 5)  # oldest first: throttling looks back
        # the delivery touchpoint gets better lately; the others vary
        touchpoint = touchpoints[n % 3]
        negative = (n % 3 == 0 and n < 18) or n % 4 == 1
        text = COMPLAINTS[n % len(COMPLAINTS)] if negative else PRAISE[n % len(PRAISE)]
        invitation = surveys.create_invitation(
            session,
            org_id=org_id,
            survey_id=survey.id,
            data=InvitationIn(
                customer_id=customers["email" if n % 2 else "chat"],
                channel="email" if n % 2 else "chat",
                touchpoint_id=touchpoint.id,
                agent_id=agents[n % 2],
            ),
            now=at,
        )
        surveys.record_answers(
            session,
            token=invitation.token,
            form={
                "shown": ["score", "why"],
                "q_score": ["3" if negative else "9"],
                "q_why": [text],
            },
            now=at,
        )
    for n, body in enumerate(COMPLAINTS[:3] + PRAISE[:2]):
        send_message(session, org_id, body, f"<m{n}@example.com>")
    session.commit()
    service.analyze_pending_texts(session, org_id=org_id)
    session.commit()
    sync_to_analytics()
    return customers["email"]


def test_how_customers_feel_in_the_browser(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
) -> None:
    # given comments and messages analysed and synced to the analytics store
    customer_id = _feelings_world(db_session, tenant.org_id)
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    # when the manager opens "How customers feel" from the menu
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="How customers feel"
    ).click()
    # then the weekly sentiment and the emotion heat map are drawn by ECharts
    page.locator("#sentiment-trend canvas").first.wait_for()
    page.locator("#emotion-heatmap canvas").first.wait_for()
    rows = page.locator("#groups-heading ~ .table-wrap tbody tr")
    names = {text.split("\t")[0].strip() for text in rows.all_inner_texts()}
    # (the emails came in without a touchpoint)
    assert names == {"Home delivery", "Web shop checkout", "Customer service", "No touchpoint"}
    page.screenshot(path=screenshots / "how-customers-feel.png", full_page=True)
    # when grouped by channel, then the heat map has a row per channel
    page.get_by_label("Group by").select_option("channel")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**by=channel**")
    page.locator("#emotion-heatmap canvas").first.wait_for()
    assert "Emotions by channel" in page.locator("#emotions-heading").inner_text()
    # and the comments page shows each comment's sentiment beside its score
    page.goto("/surveys/comments")
    badge = page.locator(".feedback-item .sentiment").first
    badge.wait_for()
    assert badge.inner_text().split()[1] in ("negative", "neutral", "positive")
    page.screenshot(path=screenshots / "comments-with-sentiment.png", full_page=False)
    # and the customer 360 sums up how the customer feels
    page.goto(f"/customers/{customer_id}")
    summary = page.get_by_role("region", name="How this customer feels")
    assert "analysed text" in summary.inner_text()
    assert page.locator("#timeline .sentiment").count() > 0
    page.screenshot(path=screenshots / "customer-360-feelings.png", full_page=True)
    # and in the inbox each message from the customer carries its sentiment
    page.goto("/inbox")
    page.locator("a.conversation-row").first.click()
    page.locator("#conversation-messages .message.inbound .sentiment").first.wait_for()
    assert "how they feel" in page.locator(".inbox-customer").inner_text().lower()
    page.screenshot(path=screenshots / "inbox-feelings.png", full_page=False)


def test_a_manager_explores_renames_and_merges_topics_in_the_browser(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    screenshots: Path,  # noqa: F811
    db_session: Session,
    tenant: Tenant,
    themed: list[int],  # noqa: F811
) -> None:
    # given the organization's topics learned from fifty messages of two themes
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    page = signed_in_page(browser, live_server, tenant.admin_email, DESKTOP)
    # when the manager opens Insights
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    page.wait_for_url("**/insights/topics")
    rows = page.locator("#topics tbody tr[data-topic]")
    assert rows.count() == 2
    late = rows.filter(has_text="late").first
    # and shows a topic's example texts
    late.get_by_role("button", name="Show texts").click()
    examples = page.locator(".topic-example-list li")
    examples.first.wait_for()
    assert "late" in examples.first.inner_text().lower()
    page.screenshot(path=screenshots / "topics-explorer.png", full_page=True)
    # and renames it
    late.get_by_text("Rename").click()
    late.get_by_label("New name").fill("Late deliveries")
    late.get_by_role("button", name="Save name").click()
    page.locator(".topic-name", has_text="Late deliveries").wait_for()
    # and merges the other topic into it
    other = page.locator("#topics tbody tr[data-topic]").filter(has_not_text="Late deliveries")
    other.get_by_role("checkbox").check()
    page.get_by_label("Merge the selected topics into").select_option(label="Late deliveries (en)")
    page.get_by_role("button", name="Merge", exact=True).click()
    # then one topic holds all fifty texts
    page.wait_for_function("document.querySelectorAll('#topics tbody tr[data-topic]').length === 1")
    merged = page.locator("#topics tbody tr[data-topic]")
    assert "Late deliveries" in merged.inner_text()
    assert merged.locator('td[data-label="Texts"]').inner_text() == "50"
    assert "includes 1 merged topic" in merged.inner_text()
    page.screenshot(path=screenshots / "topics-merged.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "topics-phone.png", full_page=True)
