"""GDPR erasure: no personal data of the person is left in any table; aggregates stay."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy.orm import Session

from opencx.commerce.models import Order, OrderChannel
from opencx.customers import service
from opencx.customers.models import (
    ConsentChannel,
    ConsentPurpose,
    ConsentRecord,
    Customer,
    CustomerErasure,
    CustomerIdentity,
    IdentityKind,
)
from opencx.customers.schemas import CustomerIn
from opencx.db import Base
from opencx.journeys.models import Department, Event, JourneyStage, Touchpoint
from tests.conftest import Tenant

PII = [
    "Zebediah",
    "Quackenbush",
    "quackmail",
    "601999123",
    "zebquack77",
    "ZQ-PII-4711",
    "Szczebrzeszyn",
    "Zebbykins",
]


def personal_data_left(session: Session) -> list[tuple[str, str, str]]:
    """(table, column, PII string) for every text or JSON value in the database holding PII."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = str(value).lower()
                found += [(table.name, column.name, p) for p in PII if p.lower() in text]
    return found


def link_history(session: Session, tenant: Tenant, customer_id: int, n: int) -> None:
    """An order and a web event of this customer, as commerce and journeys keep them."""
    at = datetime(2025, 6, n, tzinfo=UTC)
    session.add(
        Order(
            org_id=tenant.org_id,
            external_id=f"ORD-{n}",
            customer_id=customer_id,
            channel=OrderChannel.web,
            country="PL",
            placed_at=at,
            total_amount=Decimal("25.00"),
        )
    )
    touchpoint = session.scalar(select(Touchpoint).where(Touchpoint.org_id == tenant.org_id))
    if touchpoint is None:
        touchpoint = Touchpoint(
            org_id=tenant.org_id,
            key="checkout",
            name="Checkout",
            stage=JourneyStage.purchase,
            channel="web",
            is_online=True,
            department=Department.sales,
        )
        session.add(touchpoint)
        session.flush()
    session.add(
        Event(
            org_id=tenant.org_id,
            event_id=f"ev-{n}",
            customer_id=customer_id,
            touchpoint_id=touchpoint.id,
            type="page_view",
            occurred_at=at,
            properties={"path": "/checkout"},
        )
    )
    session.flush()


def test_erasure_leaves_no_personal_data_in_any_table(db_session: Session, tenant: Tenant) -> None:
    # given a person with two profiles (merged), consent, orders and events, and a bystander
    person, _ = service.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": "Zebediah",
                "last_name": "Quackenbush",
                "city": "Szczebrzeszyn",
                "country": "PL",
                "language": "pl",
                "segments": ["vip"],
                "attributes": {"nickname": "Zebbykins"},
                "identities": [
                    {"kind": "email", "value": "Zebediah.Q@quackmail.example"},
                    {"kind": "phone", "value": "+48 601 999 123"},
                    {"kind": "social", "namespace": "instagram", "value": "@ZebQuack77"},
                ],
                "consents": [
                    {"purpose": "marketing", "channel": "email", "status": "granted"},
                    {"purpose": "surveys", "channel": "any", "status": "granted"},
                ],
            }
        ),
        source="web form",
    )
    duplicate, _ = service.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": "Zebediah",
                "identities": [
                    {"kind": "external", "namespace": "crm", "value": "ZQ-PII-4711"},
                    {"kind": "email", "value": "zq.second@quackmail.example"},
                ],
                "consents": [{"purpose": "analytics", "channel": "web", "status": "withdrawn"}],
            }
        ),
        source="crm sync",
    )
    service.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=person.id,
        merged_id=duplicate.id,
        merged_by="user:1",
        reason="same as Zebediah Quackenbush, zq.second@quackmail.example",
    )
    link_history(db_session, tenant, person.id, 1)
    link_history(db_session, tenant, duplicate.id, 2)
    bystander, _ = service.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=CustomerIn.model_validate(
            {"first_name": "Bella", "identities": [{"kind": "email", "value": "bella@example.com"}]}
        ),
        source="web form",
    )
    db_session.commit()
    assert {p for _, _, p in personal_data_left(db_session)} == set(PII)
    consents_before = db_session.scalar(select(func.count()).select_from(ConsentRecord))

    # when the person's erasure is requested
    erasure = service.erase_customer(
        db_session, org_id=tenant.org_id, customer_id=person.id, requested_by="user:1"
    )
    db_session.commit()
    db_session.expire_all()

    # then no table holds any of their personal data
    assert personal_data_left(db_session) == []
    # and the profiles stay, erased, with what aggregates need
    for customer_id in (person.id, duplicate.id):
        customer = service.get_customer(db_session, org_id=tenant.org_id, customer_id=customer_id)
        assert customer.erased_at is not None
    survivor = service.get_customer(db_session, org_id=tenant.org_id, customer_id=person.id)
    assert (survivor.country, survivor.language, survivor.segments) == ("PL", "pl", ["vip"])
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 3
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == consents_before
    # and the orders and events still count, as history of an erased customer
    assert db_session.scalar(select(func.count()).select_from(Order)) == 2
    assert db_session.scalar(select(func.count()).select_from(Event)) == 2
    # and the audit records who asked and what changed
    audit = db_session.scalar(select(CustomerErasure).where(CustomerErasure.id == erasure.id))
    assert audit is not None and audit.customer_id == person.id
    assert audit.requested_by == "user:1"
    assert audit.rows_changed["customers"] == 2
    assert audit.rows_changed["customer_identities"] == 5
    # and the person can no longer be found or contacted; the bystander is untouched
    assert (
        service.find_customer_id(
            db_session,
            org_id=tenant.org_id,
            kind=IdentityKind.email,
            value="zebediah.q@quackmail.example",
        )
        is None
    )
    assert not service.may_contact(
        db_session,
        org_id=tenant.org_id,
        customer_id=person.id,
        purpose=ConsentPurpose.surveys,
        channel=ConsentChannel.email,
    )
    assert not service.may_contact(
        db_session,
        org_id=tenant.org_id,
        customer_id=person.id,
        purpose=ConsentPurpose.service,
        channel=ConsentChannel.email,
    )
    assert service.list_customers(db_session, org_id=tenant.org_id) == ([bystander], 1)
    assert bystander.first_name == "Bella"
    assert db_session.scalar(select(func.count()).select_from(CustomerIdentity)) == 1
