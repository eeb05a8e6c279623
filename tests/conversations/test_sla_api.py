"""SLA through the API and pages: policies, business hours, clocks, attainment, the breaching view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.analytics.sync import sync_to_analytics
from opencx.auth.models import Role
from tests.conftest import Tenant, login
from tests.conversations.test_pages import _agent, _conversation, _csrf

POLICIES = "/api/v1/sla/policies"
HOURS = "/api/v1/sla/business-hours"


def test_policies_are_set_listed_replaced_and_removed(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    # when a manager sets email/normal to 2 h and 16 h for every team
    body = {
        "channel": "email",
        "priority": "normal",
        "first_response_minutes": 120,
        "resolution_minutes": 960,
    }
    created = client.put(POLICIES, headers=h, json=body)
    assert created.status_code == 200, created.text
    # and sets the same scope again: it replaces, not adds
    again = client.put(POLICIES, headers=h, json={**body, "first_response_minutes": 90})
    assert again.json()["id"] == created.json()["id"]
    assert [p["first_response_minutes"] for p in client.get(POLICIES, headers=h).json()] == [90]
    # then the effective list has it, and built-in defaults elsewhere
    effective = client.get(POLICIES, headers=h, params={"effective": "true"}).json()
    email = next(p for p in effective if (p["channel"], p["priority"]) == ("email", "normal"))
    chat = next(p for p in effective if (p["channel"], p["priority"]) == ("chat", "normal"))
    assert email["first_response_minutes"] == 90 and email["id"] is not None
    assert chat["first_response_minutes"] == 2 and chat["id"] is None
    assert len(effective) == 8 * 4
    # when it is removed, the default applies again; removing it twice is 404
    policy_url = f"{POLICIES}/{created.json()['id']}"
    assert client.delete(policy_url, headers=h).status_code == 204
    assert client.delete(policy_url, headers=h).status_code == 404


def test_bad_policies_and_hours_are_422_naming_the_field_and_change_nothing(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    cases = [
        (POLICIES, {"channel": "fax", "priority": "normal"}, ["body", "channel"]),
        (
            POLICIES,
            {"channel": "chat", "priority": "normal", "first_response_minutes": 0},
            ["body", "first_response_minutes"],
        ),
        (
            POLICIES,
            {"channel": "chat", "priority": "high", "warning_percent": 95},
            ["body", "warning_percent"],
        ),
        (
            HOURS,
            {
                "time_zone": "Mars/Olympus",
                "periods": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}],
            },
            ["body", "time_zone"],
        ),
        (HOURS, {"time_zone": "UTC", "periods": []}, ["body", "periods"]),
        (
            HOURS,
            {"time_zone": "UTC", "periods": [{"weekday": 7, "opens": "09:00", "closes": "17:00"}]},
            ["body", "periods", 0, "weekday"],
        ),
        (
            HOURS,
            {
                "time_zone": "UTC",
                "periods": [{"weekday": 1, "opens": "09:00", "closes": "17:00"}],
                "holidays": ["2026-02-30"],
            },
            ["body", "holidays", 0],
        ),
    ]
    for url, body, loc in cases:
        response = client.put(url, headers=h, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc
    assert client.get(POLICIES, headers=h).json() == []
    assert [x["configured"] for x in client.get(HOURS, headers=h).json()] == [False]


def test_business_hours_per_team_and_a_conversations_clocks(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    h = tenant.headers
    # when the Polish team gets its own hours
    saved = client.put(
        HOURS,
        headers=h,
        json={
            "team": "Service PL",
            "time_zone": "Europe/Warsaw",
            "periods": [{"weekday": d, "opens": "08:00", "closes": "16:00"} for d in range(5)],
            "holidays": ["2026-12-24", "2026-12-24", "2026-11-11"],
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["holidays"] == ["2026-11-11", "2026-12-24"]
    listed = client.get(HOURS, headers=h).json()
    assert [x["team"] for x in listed] == [None, "Service PL"]
    # then a conversation has clocks readable by its organization only
    conversation_id = _conversation(client, tenant, channel="chat", sender="v-1")
    clocks = client.get(f"/api/v1/conversations/{conversation_id}/sla", headers=h)
    assert clocks.status_code == 200 and clocks.json()["first_response_target_minutes"] == 2
    foreign = client.get(
        f"/api/v1/conversations/{conversation_id}/sla", headers=other_tenant.headers
    )
    assert foreign.status_code == 404
    # and removing the team's hours works once
    params = {"team": "Service PL"}
    assert client.delete(HOURS, headers=h, params=params).status_code == 204
    assert client.delete(HOURS, headers=h, params=params).status_code == 404


def test_attainment_per_channel_and_agent_from_the_analytics_store(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    h = tenant.headers
    agent_id = _agent(db_session, tenant, "lead@acme.example", Role.manager)
    # given a chat answered in time and an email (calendar-time policy) answered late
    client.put(
        POLICIES,
        headers=h,
        json={
            "channel": "email",
            "priority": "normal",
            "first_response_minutes": 5,
            "resolution_minutes": 600,
            "business_hours": False,
        },
    )
    now = datetime.now(UTC)
    late = _conversation(
        client,
        tenant,
        channel="email",
        message_id="<late@x>",
        received_at=(now - timedelta(minutes=30)).isoformat(),
    )
    client.post(f"/api/v1/conversations/{late}/assign", headers=h, json={"assignee_id": agent_id})
    client.post(
        f"/api/v1/conversations/{late}/replies", headers=h, json={"body": "Sorry for the wait"}
    )
    fast = _conversation(client, tenant, channel="chat", sender="v-2", received_at=now.isoformat())
    client.post(f"/api/v1/conversations/{fast}/replies", headers=h, json={"body": "Hi!"})
    client.patch(f"/api/v1/conversations/{fast}", headers=h, json={"status": "resolved"})
    # when the analytics store is synced and attainment is asked per channel
    sync_to_analytics()
    today = datetime.now(UTC).date()
    params = {"start": str(today - timedelta(days=14)), "end": str(today + timedelta(days=1))}
    by_channel = client.get("/api/v1/sla/attainment", headers=h, params=params)
    assert by_channel.status_code == 200, by_channel.text
    rows = {r["group"]: r for r in by_channel.json()}
    # then the email breached its first response, the chat met both targets
    assert (rows["email"]["first_response_met"], rows["email"]["first_response_decided"]) == (0, 1)
    assert rows["email"]["first_response_attainment"] == 0.0
    assert rows["chat"]["first_response_attainment"] == 1.0
    assert rows["chat"]["resolution_attainment"] == 1.0
    assert (
        rows["email"]["resolution_decided"] == 0 and rows["email"]["resolution_attainment"] is None
    )
    # and per agent the late email is the manager's
    by_agent = client.get("/api/v1/sla/attainment", headers=h, params={**params, "by": "agent"})
    groups = {r["group"]: r["first_response_met"] for r in by_agent.json()}
    assert groups == {str(agent_id): 0, None: 1}
    bad = client.get("/api/v1/sla/attainment", headers=h, params={**params, "by": "country"})
    assert bad.status_code == 422
    # and the team lead's page shows the shares
    login(client, "lead@acme.example")
    page = client.get("/sla/attainment?by=channel")
    assert page.status_code == 200
    assert '0%</strong> <span class="muted">(0 of 1)' in page.text
    assert "100%</strong>" in page.text


def test_settings_page_saves_policies_and_hours_and_names_bad_fields(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    login(client, tenant.admin_email)
    page = client.get("/settings/sla")
    assert page.status_code == 200 and "Europe/Amsterdam" in page.text
    token = _csrf(page.text)
    # when a policy is saved through the form
    saved = client.post(
        "/settings/sla/policies",
        data={
            "csrf_token": token,
            "team": "",
            "channel": "whatsapp",
            "priority": "urgent",
            "first_response_minutes": "5",
            "resolution_minutes": "",
            "warning_percent": "25",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    api = client.get(POLICIES, headers=tenant.headers).json()
    assert [
        (p["channel"], p["first_response_minutes"], p["resolution_minutes"], p["business_hours"])
        for p in api
    ] == [("whatsapp", 5, None, False)]
    # when hours are saved with a day given only one time, then 422 names that field
    half = {"csrf_token": token, "time_zone": "Europe/Amsterdam", "opens_0": "09:00"}
    refused = client.post("/settings/sla/hours", data=half)
    assert refused.status_code == 422 and "closes_0" in refused.text
    bad_zone = {**half, "closes_0": "17:00", "time_zone": "Nowhere/City"}
    refused = client.post("/settings/sla/hours", data=bad_zone)
    assert refused.status_code == 422 and "time_zone" in refused.text
    good = {**half, "closes_0": "17:00", "holidays": "2026-12-25\n2026-12-26"}
    assert client.post("/settings/sla/hours", data=good, follow_redirects=False).status_code == 303
    hours = client.get(HOURS, headers=tenant.headers).json()[0]
    assert hours["configured"] and hours["holidays"] == ["2026-12-25", "2026-12-26"]
    # and an agent may not see or change SLA settings
    _agent(db_session, tenant, "agent@acme.example")
    login(client, "agent@acme.example")
    assert client.get("/settings/sla").status_code == 403


def test_the_breaching_view_lists_conversations_past_or_near_due_soonest_first(
    client: TestClient, tenant: Tenant
) -> None:
    # given an email an hour old (due in hours), a chat 10 minutes old (2 min: overdue), and a
    # WhatsApp message 27 minutes old (30 min: under 20% left) -- on the calendar clock
    for channel in ("email", "chat", "whatsapp"):
        client.put(
            POLICIES,
            headers=tenant.headers,
            json={
                "channel": channel,
                "priority": "normal",
                "first_response_minutes": {"email": 480, "chat": 2, "whatsapp": 30}[channel],
                "business_hours": False,
            },
        )

    def ago(minutes: int) -> str:
        # From the real clock now (the page reads it), not from when the tests were loaded.
        return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()

    _conversation(client, tenant, channel="email", message_id="<e@x>", received_at=ago(60))
    chat = _conversation(client, tenant, channel="chat", sender="v-3", received_at=ago(10))
    whatsapp = _conversation(
        client, tenant, channel="whatsapp", sender="+3161", received_at=ago(27)
    )
    login(client, tenant.admin_email)
    # when the agent opens the breaching queue
    page = client.get("/inbox?view=breaching")
    # then the chat (due first) and the WhatsApp conversation are listed, with their badges
    rows = re.findall(r'<a href="/inbox/(\d+)\?view=breaching"', page.text)
    assert rows == [str(chat), str(whatsapp)]
    # (a slow run may show a minute more)
    assert re.search(r"first response overdue (8|9) min", page.text)
    assert re.search(r"first response due in [23] min", page.text)
    assert re.search(r'Breaching <span class="count">2</span>', page.text)
    # and the email shows its countdown in the other queues
    assert re.search(r"first response due in (6 h 59|7 h 0) min", client.get("/inbox").text)
