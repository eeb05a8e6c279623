"""Bulk invitations: import_invitations decides exactly as create_invitation and record_interaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.customers.schemas import ConsentIn
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation
from opencx.surveys.schemas import InteractionIn, InvitationImport, InvitationIn, SurveyIn
from tests.conftest import Tenant
from tests.surveys.conftest import NOW, World, make_customer

START = NOW - timedelta(days=200)


def _one_by_one(session: Session, org_id: int, items: list[InvitationImport]) -> list[Any]:
    """What the single-item functions answer, item by item: invited survey ids or the refusal."""
    outcomes: list[Any] = []
    for item in items:
        if item.interaction is not None:
            report = service.record_interaction(
                session, org_id=org_id, data=item.interaction, now=item.at
            )
            outcomes.append(
                ([i.survey_id for i in report.invited], [s.reason for s in report.skipped])
            )
            continue
        assert item.survey_id is not None and item.invitation is not None
        try:
            invited = service.create_invitation(
                session, org_id=org_id, survey_id=item.survey_id, data=item.invitation, now=item.at
            )
            outcomes.append(([invited.survey_id], []))
        except service.InvitationRefused as refused:
            outcomes.append(([], [refused.reason]))
    return outcomes


def _stored(session: Session, org_id: int) -> list[tuple[Any, ...]]:
    rows = session.scalars(
        select(SurveyInvitation)
        .where(SurveyInvitation.org_id == org_id)
        .order_by(SurveyInvitation.created_at, SurveyInvitation.survey_id)
    )
    columns = [c.key for c in SurveyInvitation.__table__.columns if c.key != "id"]
    return [tuple(getattr(row, c) for c in columns) for row in rows]


def _to_survey(survey_id: int, customer_id: int, days: int, **source: Any) -> InvitationImport:
    return InvitationImport(
        at=START + timedelta(days=days),
        survey_id=survey_id,
        invitation=InvitationIn.model_validate(
            {"customer_id": customer_id, "channel": "email", **source}
        ),
    )


def _interaction(customer_id: int, days: int, **source: Any) -> InvitationImport:
    return InvitationImport(
        at=START + timedelta(days=days, hours=1),
        interaction=InteractionIn.model_validate(
            {"trigger": "delivery_delivered", "customer_id": customer_id, **source}
        ),
    )


def test_a_bulk_import_stores_and_refuses_exactly_what_one_by_one_would(
    db_session: Session, world: World, tenant: Tenant
) -> None:
    org_id = world.org_id
    # given two surveys triggered by a delivery (the second is throttled by the first's invite),
    after_delivery = []
    for kind in ("nps", "csat"):
        survey = service.create_survey(
            db_session,
            org_id=org_id,
            data=SurveyIn(name=f"{kind} after delivery", kind=kind, trigger="delivery_delivered"),
        )
        service.publish_survey(db_session, org_id=org_id, survey_id=survey.id)
        after_delivery.append(survey.id)
    # a customer who withdraws survey consent on day 30,
    wanda = make_customer(db_session, org_id, "Wanda", "pl", channel="email")
    customers.record_consent(
        db_session,
        org_id=org_id,
        customer_id=wanda,
        consent=ConsentIn(
            purpose="surveys",
            channel="email",
            status="withdrawn",
            occurred_at=START + timedelta(days=30),
            source="preference centre",
        ),
    )
    # and Carl, invited on day 0 and since merged into Bob: one family for the throttle
    bob = make_customer(db_session, org_id, "Bob", "en", channel="email")
    carl = make_customer(db_session, org_id, "Carl", "en", channel="email")
    service.create_invitation(
        db_session,
        org_id=org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(customer_id=carl, channel="email"),
        now=START,
    )
    customers.merge_customers(
        db_session, org_id=org_id, survivor_id=bob, merged_id=carl, merged_by="test"
    )
    db_session.commit()
    nps = world.nps_survey_id
    items = [
        _interaction(world.anna_id, 0, team="Logistics"),  # nps invites, csat throttled
        _to_survey(nps, world.anna_id, 1),  # throttled: invited yesterday
        _to_survey(nps, world.piotr_id, 1, valid_days=7),
        _interaction(world.piotr_id, 31),  # 30 days later: invited again
        _to_survey(nps, world.jane_id, 2, channel="chat"),  # consent on channel any
        _interaction(world.silent_id, 2),  # no consent: both surveys skip
        _to_survey(nps, wanda, 3),  # consent still granted
        _to_survey(nps, wanda, 40),  # withdrawn on day 30
        _to_survey(nps, bob, 10),  # Carl (merged into Bob) was invited on day 0
        _to_survey(nps, bob, 31),
    ]
    before = _stored(db_session, org_id)

    # when the items go one by one through create_invitation and record_interaction
    expected = _one_by_one(db_session, org_id, items)
    one_by_one = _stored(db_session, org_id)
    db_session.rollback()
    assert _stored(db_session, org_id) == before
    # and, instead, all at once through import_invitations
    reports = service.import_invitations(db_session, org_id=org_id, items=items)
    db_session.commit()

    # then each item gets the same invitations and refusals with the same reasons
    got = [([i.survey_id for i in r.invited], [s.reason for s in r.skipped]) for r in reports]
    assert got == expected
    assert expected[0] == (
        [after_delivery[0]],
        [f"customer {world.anna_id} was invited in the last 30 days"],
    )
    assert expected[5][0] == [] and all("consent" in r for r in expected[5][1])
    assert [bool(invited) for invited, _ in expected] == [
        True, False, True, True, True, False, True, False, False, True,
    ]  # fmt: skip
    # and the stored rows are the same, column by column
    assert _stored(db_session, org_id) == one_by_one
    # and every link opens its survey
    token = reports[2].invited[0].token
    page = service.get_survey_page(db_session, token=token, now=START + timedelta(days=2))
    assert page.language == "pl"


def test_a_bulk_import_refuses_invalid_input_like_one_by_one_and_stores_nothing(
    db_session: Session, world: World, tenant: Tenant, other_tenant: Tenant
) -> None:
    org_id = world.org_id
    stranger = make_customer(db_session, other_tenant.org_id, "Otto", "nl", channel="email")
    closed = service.create_survey(
        db_session, org_id=org_id, data=SurveyIn(name="Old", kind="csat")
    )
    service.publish_survey(db_session, org_id=org_id, survey_id=closed.id)
    service.close_survey(db_session, org_id=org_id, survey_id=closed.id)
    db_session.commit()
    nps = world.nps_survey_id
    good = _to_survey(nps, world.anna_id, 0)
    cases = [
        (_to_survey(nps, stranger, 1), NotFound),  # another tenant's customer
        (_to_survey(nps, world.piotr_id, 1, agent_id=987_654), NotFound),
        (_to_survey(nps, world.piotr_id, 1, order_id=987_654), NotFound),
        (_to_survey(987_654, world.piotr_id, 1), NotFound),
        (_to_survey(nps, world.piotr_id, 1, channel="any"), InvalidInput),
        (_to_survey(closed.id, world.piotr_id, 1), Conflict),
        (_interaction(stranger, 1), NotFound),
        (_interaction(world.piotr_id, 1, channel="any"), InvalidInput),
    ]
    for bad, error in cases:
        # given a valid item before the bad one
        # when they go one by one, then the bad one raises
        with pytest.raises(error) as single:
            _one_by_one(db_session, org_id, [good, bad])
        db_session.rollback()
        # and in bulk the same error is raised, and nothing is stored
        with pytest.raises(error) as bulk:
            service.import_invitations(db_session, org_id=org_id, items=[good, bad])
        assert str(bulk.value) == str(single.value)
        db_session.rollback()
        count = select(func.count()).select_from(SurveyInvitation)
        assert db_session.scalar(count.where(SurveyInvitation.org_id == org_id)) == 0


def test_an_item_names_a_survey_and_invitation_or_an_interaction() -> None:
    # given an item with neither, or with both, then validation names the rule
    with pytest.raises(ValueError, match="give survey_id and invitation, or interaction"):
        InvitationImport.model_validate({"at": NOW, "survey_id": 1})
    with pytest.raises(ValueError, match="not both"):
        InvitationImport.model_validate(
            {
                "at": NOW,
                "survey_id": 1,
                "invitation": {"customer_id": 1, "channel": "email"},
                "interaction": {"trigger": "order_placed", "customer_id": 1},
            }
        )
