"""The overview page and its CSV downloads through the real app (login through the form)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.journeys import service as journeys
from opencx.journeys.schemas import TouchpointIn
from tests.analytics.conftest import B_START, Feedback, make_customer, record_score
from tests.conftest import Tenant, login
from tests.surveys.conftest import NOW

TODAY = NOW.date()
PERIOD_B = f"period=custom&start={B_START}&end={TODAY}"


def rows_of(answer_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(answer_text)))


def test_the_overview_shows_scores_trends_and_touchpoints_with_filters_in_links(
    client: TestClient, feedback: Feedback
) -> None:
    # given a manager signed in; when they open the overview of period B for NL
    login(client, feedback.manager_email)
    page = client.get(f"/?{PERIOD_B}&country=NL")
    assert page.status_code == 200
    html = page.text
    # then every score has its tile, the filters are selected, and each download keeps them
    for tile in ("nps", "csat", "ces", "response-rate"):
        assert f'id="tile-{tile}"' in html
    assert '<option value="NL" selected>' in html
    assert '<option value="custom" selected>' in html
    assert html.count("data-survey-chart=") == 3  # NPS, CSAT, response rate; CES has no answers
    assert (
        f'href="/overview/charts/scores/trend-nps.csv?period=custom&amp;start={B_START}'
        f'&amp;end={TODAY}&amp;country=NL"' in html
    )
    assert "Chat" in html and "Phone line" in html
    assert 'id="stat-loop-closed"' in html and 'id="stat-customers"' in html


def test_a_chart_downloads_as_escaped_csv_named_after_the_period(
    client: TestClient, db_session: Session, feedback: Feedback
) -> None:
    # given a touchpoint whose name has a comma, quotes and a leading "=" (a spreadsheet formula)
    journeys.upsert_touchpoints(
        db_session,
        org_id=feedback.org_id,
        touchpoints=[
            TouchpointIn(
                key="chat",
                name='=Chat, "live"',
                stage="service",
                channel="chat",
                is_online=True,
                department="service",
            )
        ],
    )
    db_session.commit()
    login(client, feedback.manager_email)
    # when the touchpoint table is downloaded
    answer = client.get(f"/overview/charts/touchpoints/touchpoints.csv?{PERIOD_B}")
    # then it is CSV with a file name holding the period, one row per touchpoint, quoted properly
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="touchpoints_{B_START}_{TODAY}.csv"'
    )
    assert '"\'=Chat, ""live"""' in answer.text
    rows = rows_of(answer.text)
    assert rows[0][:5] == ["touchpoint_id", "touchpoint", "stage", "nps", "nps_responses"]
    names = {row[1] for row in rows[1:]}
    assert names == {'\'=Chat, "live"', "Phone line"}
    assert {row[2] for row in rows[1:]} == {"service"}
    assert sum(int(row[4]) for row in rows[1:]) == 18  # NPS responses of period B
    # and the NPS trend's CSV follows the country filter
    everyone = rows_of(client.get(f"/overview/charts/scores/trend-nps.csv?{PERIOD_B}").text)
    dutch = rows_of(client.get(f"/overview/charts/scores/trend-nps.csv?{PERIOD_B}&country=NL").text)
    assert sum(int(row[4]) for row in dutch[1:]) < sum(int(row[4]) for row in everyone[1:])


def test_another_organization_downloads_only_its_own_data(
    client: TestClient, feedback: Feedback, other_tenant: Tenant
) -> None:
    login(client, other_tenant.admin_email)
    answer = client.get(f"/overview/charts/touchpoints/touchpoints.csv?{PERIOD_B}")
    assert answer.status_code == 200
    assert rows_of(answer.text)[1:] == []


def test_bad_filters_and_unknown_charts_are_refused(client: TestClient, feedback: Feedback) -> None:
    login(client, feedback.manager_email)
    bad = client.get("/?period=custom&start=2026-13-01&end=2026-12-01")
    assert bad.status_code == 422 and "start" in bad.text
    assert client.get("/?period=forever").status_code == 422
    assert client.get(f"/overview/charts/scores/nope.csv?{PERIOD_B}").status_code == 404
    assert client.get("/overview/charts/scores/trend-nps.csv").status_code == 200  # last 30 days


def test_the_live_poll_answers_nothing_until_a_response_is_synced(
    client: TestClient, db_session: Session, feedback: Feedback
) -> None:
    # given the overview open, its stamp taken from the page
    login(client, feedback.manager_email)
    html = client.get(f"/?{PERIOD_B}").text
    stamp = html.split('data-stamp="')[1].split('"')[0]
    poll = f"/?{PERIOD_B}&stamp={quote(stamp)}"
    # when nothing changed, the poll answers 204 (htmx swaps nothing)
    assert client.get(poll).status_code == 204
    # when a new NPS answer arrives and is synced
    customer_id = make_customer(db_session, feedback.org_id, 5000)
    record_score(
        db_session,
        org_id=feedback.org_id,
        survey_id=feedback.nps_survey_id,
        customer_id=customer_id,
        score=10,
        at=NOW - timedelta(hours=1),
        agent_id=None,
        touchpoint_id=feedback.chat_id,
    )
    db_session.commit()
    sync_to_analytics()
    # then the poll answers the sections anew, counting 19 NPS responses
    answer = client.get(poll)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="overview-live"')
    assert "19 responses" in answer.text
