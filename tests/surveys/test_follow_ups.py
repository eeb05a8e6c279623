"""Closed loop: detractor answers open follow-ups that owners contact and resolve, with notes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.analytics.service import share_interval
from opencx.analytics.sync import sync_to_analytics
from opencx.auth import service as auth
from opencx.auth.models import Role
from opencx.auth.schemas import Principal
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn, CustomerPatch
from opencx.errors import InvalidInput
from opencx.surveys import service as surveys
from opencx.surveys.follow_ups import service
from opencx.surveys.follow_ups.models import FollowUpStatus, NoteAuthor, SurveyFollowUp
from opencx.surveys.follow_ups.schemas import FollowUpChange, FollowUpSettings
from opencx.surveys.schemas import InvitationIn, SurveyIn
from tests.conftest import PASSWORD, Tenant, login, make_tenant
from tests.surveys.conftest import NOW, World, invite


def _user(session: Session, org_id: int, name: str, role: Role = Role.agent) -> int:
    user = auth.create_user(
        session,
        org_id=org_id,
        email=f"{name.lower()}@{org_id}.example",
        name=name,
        role=role,
        password=PASSWORD,
    )
    session.commit()
    return user.id


def _answer(
    session: Session, token: str, score: int, *, at: datetime | None = None, why: str = ""
) -> None:
    form = {"shown": ["score", "why"], "q_score": [str(score)], "q_why": [why]}
    surveys.record_answers(session, token=token, form=form, now=at)
    session.commit()


def _follow_ups(session: Session, org_id: int) -> list[SurveyFollowUp]:
    session.expire_all()
    return list(
        session.scalars(
            select(SurveyFollowUp)
            .where(SurveyFollowUp.org_id == org_id)
            .order_by(SurveyFollowUp.id)
        )
    )


def _admin(session: Session, org_id: int) -> Principal:
    user = next(u for u in auth.list_users(session, org_id=org_id) if u.role is Role.admin)
    return auth.principal_for_user(user)


def test_a_detractor_opens_one_follow_up_owned_by_the_team_lead(
    db_session: Session, world: World
) -> None:
    # given a team lead for "Service NL" and a due time of 24 hours
    lead = _user(db_session, world.org_id, "Lena")
    service.update_follow_up_settings(
        db_session,
        org_id=world.org_id,
        data=FollowUpSettings(team_owners={"Service NL": lead}, due_hours=24),
    )
    db_session.commit()
    token = invite(db_session, world, world.anna_id, team="Service NL")

    # when the customer answers 3, then submits again with a comment
    _answer(db_session, token, 3, at=NOW)
    _answer(db_session, token, 4, at=NOW + timedelta(minutes=1), why="late and rude")

    # then exactly one follow-up is open, for the lead, due 24 hours after the first answer
    (follow_up,) = _follow_ups(db_session, world.org_id)
    assert follow_up.status is FollowUpStatus.open
    assert follow_up.owner_id == lead and follow_up.team == "Service NL"
    assert follow_up.opened_at == NOW and follow_up.due_at == NOW + timedelta(hours=24)
    assert follow_up.score == 4
    detail = service.get_follow_up(db_session, org_id=world.org_id, follow_up_id=follow_up.id)
    assert detail.comments == {"why": "late and rude"} and detail.owner_name == "Lena"


@pytest.mark.parametrize(("score", "opens"), [(0, True), (6, True), (7, False), (10, False)])
def test_only_nps_detractors_open_a_follow_up(
    db_session: Session, world: World, score: int, opens: bool
) -> None:
    _answer(db_session, invite(db_session, world, world.jane_id), score)
    assert len(_follow_ups(db_session, world.org_id)) == (1 if opens else 0)


def test_csat_of_one_or_two_opens_a_follow_up(db_session: Session, world: World) -> None:
    # given an active CSAT survey
    csat = surveys.create_survey(
        db_session, org_id=world.org_id, data=SurveyIn(name="Chat", kind="csat")
    )
    surveys.publish_survey(db_session, org_id=world.org_id, survey_id=csat.id)
    db_session.commit()
    opened = []
    for customer, score in [(world.anna_id, 2), (world.jane_id, 3)]:
        invitation = surveys.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=csat.id,
            data=InvitationIn(customer_id=customer, channel="email"),
        )
        db_session.commit()
        _answer(db_session, invitation.token, score)
        opened.append(len(_follow_ups(db_session, world.org_id)))
    # then a 2 opened one and a 3 did not
    assert opened == [1, 1]


def test_the_default_owner_then_nobody_when_the_team_has_no_lead(
    db_session: Session, world: World
) -> None:
    # given no settings: unassigned
    _answer(db_session, invite(db_session, world, world.anna_id, team="Returns"), 1)
    # given a default owner: the team without a lead goes to them
    default = _user(db_session, world.org_id, "Dora", Role.manager)
    service.update_follow_up_settings(
        db_session, org_id=world.org_id, data=FollowUpSettings(default_owner_id=default)
    )
    db_session.commit()
    _answer(db_session, invite(db_session, world, world.piotr_id, team="Returns"), 2)
    first, second = _follow_ups(db_session, world.org_id)
    assert first.owner_id is None and second.owner_id == default
    assert second.due_at - second.opened_at == timedelta(hours=48)


def test_a_changed_score_cancels_an_untouched_follow_up_and_can_reopen_it(
    db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id)
    _answer(db_session, token, 2, at=NOW)
    # when the customer changes the score to 9 before anyone acted
    _answer(db_session, token, 9, at=NOW + timedelta(minutes=5))
    (follow_up,) = _follow_ups(db_session, world.org_id)
    # then it is cancelled with a system note saying why
    assert follow_up.status is FollowUpStatus.cancelled
    detail = service.get_follow_up(db_session, org_id=world.org_id, follow_up_id=follow_up.id)
    (note,) = detail.notes
    assert note.author_kind is NoteAuthor.system and note.author_id is None
    assert note.status_to is FollowUpStatus.cancelled and "from 2 to 9" in note.text
    # and the list of open work no longer shows it
    assert service.list_follow_ups(db_session, org_id=world.org_id, overdue=None).total == 1
    assert (
        service.list_follow_ups(db_session, org_id=world.org_id, status=FollowUpStatus.open).total
        == 0
    )
    # when the customer goes back to a 5, it reopens with a fresh due time
    _answer(db_session, token, 5, at=NOW + timedelta(hours=1))
    (follow_up,) = _follow_ups(db_session, world.org_id)
    assert follow_up.status is FollowUpStatus.open and follow_up.score == 5
    assert follow_up.due_at == NOW + timedelta(hours=49)


def test_a_changed_score_leaves_a_follow_up_someone_worked_on(
    db_session: Session, world: World, tenant: Tenant
) -> None:
    token = invite(db_session, world, world.anna_id)
    _answer(db_session, token, 2)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    service.add_follow_up_note(
        db_session,
        org_id=world.org_id,
        follow_up_id=follow_up.id,
        text="Left a voicemail",
        actor=_admin(db_session, world.org_id),
    )
    db_session.commit()
    # when the score changes to a promoter's
    _answer(db_session, token, 10)
    # then it stays open, with a system note of the change
    (follow_up,) = _follow_ups(db_session, world.org_id)
    assert follow_up.status is FollowUpStatus.open
    notes = service.get_follow_up(db_session, org_id=world.org_id, follow_up_id=follow_up.id).notes
    assert [n.author_kind for n in notes] == [NoteAuthor.user, NoteAuthor.system]


def test_status_moves_open_contacted_resolved_and_reopens(
    db_session: Session, world: World
) -> None:
    _answer(db_session, invite(db_session, world, world.anna_id), 3, at=NOW)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    admin = _admin(db_session, world.org_id)

    def move(status: str, at_hours: int, note: str = "") -> None:
        service.change_follow_up(
            db_session,
            org_id=world.org_id,
            follow_up_id=follow_up.id,
            data=FollowUpChange(status=FollowUpStatus(status), note=note),
            actor=admin,
            now=NOW + timedelta(hours=at_hours),
        )
        db_session.commit()

    # an open follow-up cannot jump to resolved: 422 naming status, nothing changed
    with pytest.raises(InvalidInput) as refused:
        move("resolved", 1)
    assert refused.value.field == "status"
    db_session.rollback()
    move("contacted", 2, "Called, will refund")
    move("resolved", 5)
    detail = service.get_follow_up(db_session, org_id=world.org_id, follow_up_id=follow_up.id)
    assert detail.contacted_at == NOW + timedelta(hours=2)
    assert detail.resolved_at == NOW + timedelta(hours=5)
    assert [(n.status_from, n.status_to) for n in detail.notes] == [
        (FollowUpStatus.open, FollowUpStatus.contacted),
        (FollowUpStatus.contacted, FollowUpStatus.resolved),
    ]
    assert detail.notes[0].text == "Called, will refund" and detail.notes[0].author_name
    # and a resolved one may be reopened
    move("open", 6)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    assert follow_up.status is FollowUpStatus.open and follow_up.resolved_at is None


def test_only_leads_and_the_owner_may_work_on_a_follow_up(
    db_session: Session, world: World
) -> None:
    owner = _user(db_session, world.org_id, "Olga")
    bystander = _user(db_session, world.org_id, "Bert")
    service.update_follow_up_settings(
        db_session, org_id=world.org_id, data=FollowUpSettings(default_owner_id=owner)
    )
    db_session.commit()
    _answer(db_session, invite(db_session, world, world.anna_id), 0)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    users = {u.id: u for u in auth.list_users(db_session, org_id=world.org_id)}
    with pytest.raises(service.FollowUpNotYours):
        service.add_follow_up_note(
            db_session,
            org_id=world.org_id,
            follow_up_id=follow_up.id,
            text="not mine",
            actor=auth.principal_for_user(users[bystander]),
        )
    note = service.add_follow_up_note(
        db_session,
        org_id=world.org_id,
        follow_up_id=follow_up.id,
        text="Calling now",
        actor=auth.principal_for_user(users[owner]),
    )
    assert note.author_id == owner and note.author_name == "Olga"


def test_settings_name_the_field_of_a_user_from_elsewhere(
    db_session: Session, world: World
) -> None:
    other = make_tenant(db_session, "globex")
    stranger = _user(db_session, other.org_id, "Stan")
    for data, field_name in [
        (FollowUpSettings(team_owners={"Service NL": stranger}), "team_owners.Service NL"),
        (FollowUpSettings(default_owner_id=stranger), "default_owner_id"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            service.update_follow_up_settings(db_session, org_id=world.org_id, data=data)
        assert refused.value.field == field_name
    assert service.get_follow_up_settings(db_session, org_id=world.org_id) == FollowUpSettings()


def test_follow_ups_show_on_the_timeline_export_and_erasure_blanks_notes(
    db_session: Session, world: World
) -> None:
    _answer(db_session, invite(db_session, world, world.anna_id), 1)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    service.add_follow_up_note(
        db_session,
        org_id=world.org_id,
        follow_up_id=follow_up.id,
        text="Anna said the courier was rude",
        actor=_admin(db_session, world.org_id),
    )
    db_session.commit()
    profile = customers.get_customer_360(db_session, org_id=world.org_id, customer_id=world.anna_id)
    entries = [e for e in profile.timeline if e.kind == "follow-up"]
    assert len(entries) == 1 and entries[0].title.startswith("Follow-up open: After delivery")
    export = customers.export_customer(db_session, org_id=world.org_id, customer_id=world.anna_id)
    notes = export["survey_follow_ups"][0]["notes"]
    assert notes[0]["text"] == "Anna said the courier was rude"
    # when the customer is erased
    erased = customers.erase_customer(
        db_session, org_id=world.org_id, customer_id=world.anna_id, requested_by="test"
    )
    db_session.commit()
    # then the note text is gone, the follow-up (status, times) stays
    assert erased.rows_changed["survey_follow_up_notes"] == 1
    detail = service.get_follow_up(db_session, org_id=world.org_id, follow_up_id=follow_up.id)
    assert [n.text for n in detail.notes] == [""]
    assert detail.status is FollowUpStatus.open


def test_api_lists_reads_changes_and_notes(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    lead = _user(db_session, world.org_id, "Lena")
    _answer(db_session, invite(db_session, world, world.anna_id), 2, at=NOW - timedelta(days=3))
    _answer(db_session, invite(db_session, world, world.piotr_id), 5, why="slow refund")
    headers = tenant.headers
    # list: two, one of them overdue
    listed = client.get("/api/v1/survey-follow-ups", headers=headers).json()
    assert listed["total"] == 2
    overdue = client.get("/api/v1/survey-follow-ups?overdue=true", headers=headers).json()
    assert [f["overdue"] for f in overdue["items"]] == [True]
    page = client.get("/api/v1/survey-follow-ups?limit=1&offset=1", headers=headers).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    follow_up_id = next(f["id"] for f in listed["items"] if f["score"] == 5)
    # read: the customer's comment, score and customer
    detail = client.get(f"/api/v1/survey-follow-ups/{follow_up_id}", headers=headers).json()
    assert detail["comments"] == {"why": "slow refund"} and detail["customer_id"] == world.piotr_id
    # change: contacted and assigned, with a note by the API key (no user author)
    changed = client.patch(
        f"/api/v1/survey-follow-ups/{follow_up_id}",
        headers=headers,
        json={"status": "contacted", "owner_id": lead, "note": "Phoned from the CRM"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["status"] == "contacted" and body["owner_id"] == lead
    (note,) = body["notes"]
    assert note["author_kind"] == "api_key" and note["author_id"] is None
    assert note["author_name"] == "API key tests" and "Phoned from the CRM" in note["text"]
    # the same owner again, with nothing else, is no change: 422, and no empty note
    same = client.patch(
        f"/api/v1/survey-follow-ups/{follow_up_id}", headers=headers, json={"owner_id": lead}
    )
    assert same.status_code == 422, same.text
    mine = client.get(f"/api/v1/survey-follow-ups?owner_id={lead}", headers=headers).json()
    assert [f["id"] for f in mine["items"]] == [follow_up_id]
    # an impossible move is a 422 naming status and changes nothing
    bad = client.patch(
        f"/api/v1/survey-follow-ups/{follow_up_id}", headers=headers, json={"status": "open"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "status"
    # a note
    added = client.post(
        f"/api/v1/survey-follow-ups/{follow_up_id}/notes",
        headers=headers,
        json={"text": "Refund sent"},
    )
    assert added.status_code == 201 and added.json()["author_kind"] == "api_key"
    assert (
        client.get("/api/v1/survey-follow-ups?status=contacted", headers=headers).json()["total"]
        == 1
    )


def test_api_settings_round_trip_and_name_bad_fields(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    lead = _user(db_session, world.org_id, "Lena")
    put = client.put(
        "/api/v1/survey-follow-up-settings",
        headers=tenant.headers,
        json={"team_owners": {"Service NL": lead}, "due_hours": 12},
    )
    assert put.status_code == 200, put.text
    got = client.get("/api/v1/survey-follow-up-settings", headers=tenant.headers).json()
    assert got == {"team_owners": {"Service NL": lead}, "default_owner_id": None, "due_hours": 12}
    for body, field_name in [
        ({"default_owner_id": 999999}, "default_owner_id"),
        ({"due_hours": 0}, "due_hours"),
    ]:
        bad = client.put("/api/v1/survey-follow-up-settings", headers=tenant.headers, json=body)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == field_name
    assert client.get("/api/v1/survey-follow-up-settings", headers=tenant.headers).json() == got


def test_pages_let_the_owner_work_the_loop(
    client: TestClient, db_session: Session, world: World
) -> None:
    # given an agent who owns every new follow-up, and one detractor comment
    owner = _user(db_session, world.org_id, "Olga")
    _user(db_session, world.org_id, "Bert")
    service.update_follow_up_settings(
        db_session, org_id=world.org_id, data=FollowUpSettings(default_owner_id=owner)
    )
    db_session.commit()
    _answer(db_session, invite(db_session, world, world.anna_id), 1, why="Never again")
    (follow_up,) = _follow_ups(db_session, world.org_id)
    login(client, f"olga@{world.org_id}.example")
    # the list shows it under "mine", the page shows the comment
    listed = client.get("/surveys/follow-ups")
    assert listed.status_code == 200 and f"/surveys/follow-ups/{follow_up.id}" in listed.text
    page = client.get(f"/surveys/follow-ups/{follow_up.id}")
    assert "Never again" in page.text and 'name="csrf_token"' in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    # without the CSRF token nothing changes
    refused = client.post(
        f"/surveys/follow-ups/{follow_up.id}", data={"status": "contacted", "note": "x"}
    )
    assert refused.status_code == 403
    # with it the status moves and the note shows in the history
    moved = client.post(
        f"/surveys/follow-ups/{follow_up.id}",
        data={"csrf_token": csrf, "status": "contacted", "note": "Called Anna"},
    )
    assert moved.status_code == 200 and "Called Anna" in moved.text
    assert _follow_ups(db_session, world.org_id)[0].status is FollowUpStatus.contacted
    # an impossible move shows the reason with a 422
    wrong = client.post(
        f"/surveys/follow-ups/{follow_up.id}", data={"csrf_token": csrf, "status": "open"}
    )
    assert wrong.status_code == 422
    assert "a contacted follow-up can move to resolved, not open" in wrong.text
    # another agent sees it but cannot change it
    client.cookies.clear()
    login(client, f"bert@{world.org_id}.example")
    other = client.get(f"/surveys/follow-ups/{follow_up.id}")
    assert other.status_code == 200 and 'action="/surveys/follow-ups/' not in other.text
    assert "No follow-ups assigned to you" in client.get("/surveys/follow-ups").text
    csrf = other.text.split('name="csrf_token" value="')[1].split('"')[0]
    denied = client.post(
        f"/surveys/follow-ups/{follow_up.id}/notes", data={"csrf_token": csrf, "text": "hi"}
    )
    assert denied.status_code == 403


def test_another_organizations_follow_up_is_not_found(
    client: TestClient, db_session: Session, world: World, other_tenant: Tenant
) -> None:
    _answer(db_session, invite(db_session, world, world.anna_id), 1)
    (follow_up,) = _follow_ups(db_session, world.org_id)
    assert (
        client.get(
            f"/api/v1/survey-follow-ups/{follow_up.id}", headers=other_tenant.headers
        ).status_code
        == 404
    )
    assert client.get("/api/v1/survey-follow-ups", headers=other_tenant.headers).json() == {
        "total": 0,
        "items": [],
    }
    assert db_session.scalar(select(func.count(SurveyFollowUp.id))) == 1


def test_loop_closed_within_48_hours_per_week_of_opening(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given three detractors answering at the same moment
    lead = _user(db_session, world.org_id, "Lena")
    for customer in (world.anna_id, world.piotr_id, world.jane_id):
        _answer(db_session, invite(db_session, world, customer), 2, at=NOW)
    admin = _admin(db_session, world.org_id)
    first, second, _ = _follow_ups(db_session, world.org_id)
    # when one is resolved after 10 hours (by the lead) and one after 50 hours; one stays open
    for follow_up, hours, owner in [(first, 10, lead), (second, 50, None)]:
        for status, at in [("contacted", 1), ("resolved", hours)]:
            service.change_follow_up(
                db_session,
                org_id=world.org_id,
                follow_up_id=follow_up.id,
                data=FollowUpChange.model_validate(
                    {"status": status, **({"owner_id": owner} if owner else {})}
                ),
                actor=admin,
                now=NOW + timedelta(hours=at),
            )
    db_session.commit()
    sync_to_analytics()
    period = {"start": NOW.date().isoformat(), "end": (NOW + timedelta(days=1)).date().isoformat()}

    # then the week shows 1 of 3 closed within 48 h, with a Wilson interval, and 30 h to close
    (week,) = client.get(
        "/api/v1/analytics/follow-ups-per-week", headers=tenant.headers, params=period
    ).json()
    assert (week["follow_ups"], week["contacted"], week["closed"]) == (3, 2, 2)
    assert week["closed_within_48h"] == 1
    assert week["closed_within_48h_share"] == pytest.approx(1 / 3)
    low, high = share_interval(1, 3)
    assert (week["share_low"], week["share_high"]) == (pytest.approx(low), pytest.approx(high))
    assert week["median_hours_to_close"] == pytest.approx(30)
    assert week["mean_hours_to_close"] == pytest.approx(30)
    # and per owner: the lead closed theirs in 10 h; the unassigned ones took 50 h or are open
    by_owner = client.get(
        "/api/v1/analytics/follow-ups-per-week",
        headers=tenant.headers,
        params={**period, "by": "owner"},
    ).json()
    rows = {row["owner_id"]: row for row in by_owner}
    assert rows[lead]["closed_within_48h"] == 1 and rows[lead]["median_hours_to_close"] == 10
    assert rows[None]["follow_ups"] == 2 and rows[None]["median_hours_to_close"] == 50


def test_the_overview_shows_the_loop_closed_within_48_hours_open_and_overdue(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given three detractors who answered three days ago (their follow-ups due after 48 h)
    at = NOW - timedelta(days=3)
    for customer in (world.anna_id, world.piotr_id, world.jane_id):
        _answer(db_session, invite(db_session, world, customer), 2, at=at)
    admin = _admin(db_session, world.org_id)
    first, second, _ = _follow_ups(db_session, world.org_id)
    # when one is resolved after 10 hours and one is only contacted; the third stays open
    for follow_up, changes in [
        (first, [("contacted", 1), ("resolved", 10)]),
        (second, [("contacted", 5)]),
    ]:
        for status, hours in changes:
            service.change_follow_up(
                db_session,
                org_id=world.org_id,
                follow_up_id=follow_up.id,
                data=FollowUpChange(status=status),
                actor=admin,
                now=at + timedelta(hours=hours),
            )
    db_session.commit()
    # then the summary counts 1 of 3 closed within 48 h, 2 open now, both past their due time
    summary = service.compute_follow_up_summary(
        db_session, org_id=world.org_id, start=NOW - timedelta(days=30), now=NOW
    )
    assert (summary.opened, summary.closed_within_48h) == (3, 1)
    assert (summary.open_now, summary.overdue_now) == (2, 2)
    # and the overview dashboard shows it
    login(client, tenant.admin_email)
    page = client.get("/").text
    assert 'id="stat-loop-closed">33%<' in page
    assert "closed within 48 h (1 of 3 opened)" in page
    assert 'id="stat-loop-overdue">2<' in page


def test_the_loop_follows_the_country_and_segment_of_the_customers_profile(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given follow-ups of Anna (NL, resolved in 10 h), Piotr (PL, open) and Jane (vip, open)
    at = NOW - timedelta(days=3)
    for customer, patch in (
        (world.anna_id, {"country": "NL"}),
        (world.piotr_id, {"country": "PL"}),
        (world.jane_id, {"segments": ["vip"]}),
    ):
        customers.update_customer(
            db_session,
            org_id=world.org_id,
            customer_id=customer,
            changes=CustomerPatch.model_validate(patch),
        )
        _answer(db_session, invite(db_session, world, customer), 2, at=at)
    admin = _admin(db_session, world.org_id)
    anna_follow_up = _follow_ups(db_session, world.org_id)[0]
    for status, hours in (("contacted", 1), ("resolved", 10)):
        service.change_follow_up(
            db_session,
            org_id=world.org_id,
            follow_up_id=anna_follow_up.id,
            data=FollowUpChange(status=status),
            actor=admin,
            now=at + timedelta(hours=hours),
        )
    db_session.commit()

    def summary(**filters: str) -> tuple[int, int, int, int]:
        found = service.compute_follow_up_summary(
            db_session, org_id=world.org_id, start=NOW - timedelta(days=30), now=NOW, **filters
        )
        return (found.opened, found.closed_within_48h, found.open_now, found.overdue_now)

    # then each filter counts its own customers' follow-ups, and both together none here
    assert summary() == (3, 1, 2, 2)
    assert summary(country="NL") == (1, 1, 0, 0)
    assert summary(country="PL") == (1, 0, 1, 1)
    assert summary(segment="vip") == (1, 0, 1, 1)
    assert summary(country="NL", segment="vip") == (0, 0, 0, 0)
    # when Anna is merged into a Belgian profile, her follow-up counts where the profile is
    belgian, _ = customers.upsert_customer(
        db_session,
        org_id=world.org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": "Anna",
                "country": "BE",
                "identities": [{"kind": "email", "value": "anna@example.be"}],
            }
        ),
        source="test",
    )
    customers.merge_customers(
        db_session,
        org_id=world.org_id,
        survivor_id=belgian.id,
        merged_id=world.anna_id,
        merged_by="test",
    )
    db_session.commit()
    assert summary(country="NL") == (0, 0, 0, 0)
    assert summary(country="BE") == (1, 1, 0, 0)
    # and the overview's closed-loop tile follows the filter
    login(client, tenant.admin_email)
    page = client.get("/?country=PL").text
    assert "closed within 48 h (0 of 1 opened)" in page
    assert 'id="stat-loop-overdue">1<' in page
    assert "of the chosen customers" in page
