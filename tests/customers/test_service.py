"""Customer 360 use cases through a real database: upsert, import, search, consent, merge, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.commerce.models import Order, OrderChannel
from opencx.customers import service, timeline
from opencx.customers.models import (
    ConsentChannel,
    ConsentPurpose,
    ConsentRecord,
    ConsentStatus,
    Customer,
    CustomerIdentity,
    CustomerMerge,
    IdentityKind,
)
from opencx.customers.schemas import ConsentIn, CustomerIn, CustomerPatch
from opencx.errors import Conflict, InvalidInput, NotFound
from tests.conftest import Tenant


def when(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 6, day, hour, tzinfo=UTC)


def customer_in(*identities: dict[str, str], **fields: Any) -> CustomerIn:
    return CustomerIn.model_validate({"identities": list(identities), **fields})


def email(value: str) -> dict[str, str]:
    return {"kind": "email", "value": value}


def phone(value: str) -> dict[str, str]:
    return {"kind": "phone", "value": value}


def handle(network: str, value: str) -> dict[str, str]:
    return {"kind": "social", "namespace": network, "value": value}


def external(system: str, value: str) -> dict[str, str]:
    return {"kind": "external", "namespace": system, "value": value}


def consent(
    purpose: str, channel: str, status: str, at: datetime, source: str = "form"
) -> ConsentIn:
    return ConsentIn.model_validate(
        {
            "purpose": purpose,
            "channel": channel,
            "status": status,
            "occurred_at": at,
            "source": source,
        }
    )


def make_customer(
    session: Session, tenant: Tenant, *identities: dict[str, str], **fields: Any
) -> Customer:
    customer, created = service.upsert_customer(
        session, org_id=tenant.org_id, data=customer_in(*identities, **fields), source="test"
    )
    assert created
    return customer


# --- upsert ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (email("Ann@Example.com"), email(" ann@example.COM")),
        (phone("+48 601 234 567"), phone("0048601234567")),
        (handle("instagram", "@Ann.K"), handle("Instagram", "ann.k")),
        (external("shopify", "C-42"), external("shopify", "C-42")),
    ],
)
def test_upsert_finds_the_customer_by_each_identity_kind(
    db_session: Session, tenant: Tenant, first: dict[str, str], again: dict[str, str]
) -> None:
    # given a customer known by one identity
    customer = make_customer(db_session, tenant, first, first_name="Ann", city="Gdansk")
    # when the same identity, spelled differently, arrives with more details
    found, created = service.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=customer_in(again, email("ann.work@example.com"), last_name="Kowalska"),
        source="test",
    )
    # then the same profile is updated, keeping what it knew, and learns the new identity
    assert not created
    assert found.id == customer.id
    assert (found.first_name, found.last_name, found.city) == ("Ann", "Kowalska", "Gdansk")
    assert (
        service.find_customer_id(
            db_session, org_id=tenant.org_id, kind=IdentityKind.email, value="ANN.WORK@example.com"
        )
        == customer.id
    )
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 1


def test_upsert_with_identities_of_two_customers_is_refused(
    db_session: Session, tenant: Tenant
) -> None:
    # given two customers
    ann = make_customer(db_session, tenant, email("ann@example.com"))
    bob = make_customer(db_session, tenant, phone("+31612345678"))
    # when one request names an identity of each
    with pytest.raises(InvalidInput) as caught:
        service.upsert_customer(
            db_session,
            org_id=tenant.org_id,
            data=customer_in(email("ann@example.com"), phone("+31 6 1234 5678"), first_name="X"),
            source="test",
        )
    # then it is refused naming both, and neither profile changed
    assert caught.value.field == "identities"
    assert f"ids {ann.id}, {bob.id}" in caught.value.reason
    assert "merge them first" in caught.value.reason
    assert ann.first_name is None and bob.first_name is None


def test_upsert_merges_segments_and_attributes(db_session: Session, tenant: Tenant) -> None:
    customer = make_customer(
        db_session,
        tenant,
        email("a@example.com"),
        segments=["vip"],
        attributes={"tier": "gold", "kids": 2},
    )
    service.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=customer_in(
            email("a@example.com"), segments=["newsletter", "vip"], attributes={"kids": 3}
        ),
        source="test",
    )
    assert customer.segments == ["vip", "newsletter"]
    assert customer.attributes == {"tier": "gold", "kids": 3}


def test_upsert_gives_consents_without_a_source_the_request_source(
    db_session: Session, tenant: Tenant
) -> None:
    data = customer_in(
        email("a@example.com"),
        consents=[
            {
                "purpose": "marketing",
                "channel": "email",
                "status": "granted",
                "occurred_at": when(1),
            }
        ],
    )
    customer, _ = service.upsert_customer(
        db_session, org_id=tenant.org_id, data=data, source="shop-sync"
    )
    # when the same consent arrives again, it is not stored twice
    service.upsert_customer(db_session, org_id=tenant.org_id, data=data, source="shop-sync")
    history = service.list_consent_history(
        db_session, org_id=tenant.org_id, customer_id=customer.id
    )
    assert [(r.purpose, r.source) for r in history] == [(ConsentPurpose.marketing, "shop-sync")]


def test_find_customer_id_is_none_for_unknown_and_scoped_to_the_organization(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    make_customer(db_session, tenant, email("a@example.com"))
    for org_id, value in ((tenant.org_id, "b@example.com"), (other_tenant.org_id, "a@example.com")):
        assert (
            service.find_customer_id(
                db_session, org_id=org_id, kind=IdentityKind.email, value=value
            )
            is None
        )
    with pytest.raises(InvalidInput) as caught:
        service.find_customer_id(
            db_session, org_id=tenant.org_id, kind=IdentityKind.phone, value="12"
        )
    assert caught.value.field == "value"


def test_get_customer_of_another_organization_is_not_found(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    customer = make_customer(db_session, tenant, email("a@example.com"))
    with pytest.raises(NotFound):
        service.get_customer(db_session, org_id=other_tenant.org_id, customer_id=customer.id)
    with pytest.raises(NotFound):
        service.get_customer_360(db_session, org_id=other_tenant.org_id, customer_id=customer.id)


def test_update_customer_merges_attributes_and_removes_null_keys(
    db_session: Session, tenant: Tenant
) -> None:
    customer = make_customer(
        db_session, tenant, email("a@example.com"), first_name="Ann", attributes={"a": 1, "b": 2}
    )
    service.update_customer(
        db_session,
        org_id=tenant.org_id,
        customer_id=customer.id,
        changes=CustomerPatch.model_validate(
            {"first_name": None, "attributes": {"a": None, "c": 3}}
        ),
    )
    assert customer.first_name is None
    assert customer.attributes == {"b": 2, "c": 3}


# --- import ------------------------------------------------------------------------------------


def import_row(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "first_name": f"First{i}",
        "country": "NL",
        "identities": [email(f"user{i}@example.com"), phone(f"+3161000{i:04d}")],
        "consents": [
            {
                "purpose": "marketing",
                "channel": "email",
                "status": "granted",
                "occurred_at": when(1),
            }
        ],
        **fields,
    }


def test_import_with_a_bad_row_writes_nothing_and_names_every_error(
    db_session: Session, tenant: Tenant
) -> None:
    # given a batch with two bad rows among good ones
    rows = [import_row(i) for i in range(10)]
    rows[3]["country"] = "Netherlands"
    rows[7]["identities"][0]["value"] = "not-an-email"
    # when imported
    report = service.import_customers(db_session, org_id=tenant.org_id, rows=rows, source="file")
    # then every error is reported by row and field, and nothing is stored
    assert not report.ok
    assert {(e.index, e.field) for e in report.errors} == {
        (3, "country"),
        (7, "identities.0.value"),
    }
    assert report.created == 0
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 0
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_upsert_and_import_need_a_source(db_session: Session, tenant: Tenant) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.import_customers(db_session, org_id=tenant.org_id, rows=[import_row(0)], source=" ")
    assert caught.value.field == "source"
    with pytest.raises(InvalidInput):
        service.upsert_customer(
            db_session, org_id=tenant.org_id, data=customer_in(email("a@example.com")), source=""
        )
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 0


def test_import_refuses_a_row_joining_two_customers(db_session: Session, tenant: Tenant) -> None:
    existing = make_customer(db_session, tenant, email("known@example.com"))
    rows = [
        import_row(0),
        # shares row 0's phone and the existing customer's email
        import_row(1, identities=[phone("+31610000000"), email("known@example.com")]),
    ]
    report = service.import_customers(db_session, org_id=tenant.org_id, rows=rows, source="file")
    assert [(e.index, e.field) for e in report.errors] == [(1, "identities")]
    assert f"id {existing.id}" in report.errors[0].reason
    assert "row 0" in report.errors[0].reason
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 1


def test_import_creates_updates_and_is_idempotent(db_session: Session, tenant: Tenant) -> None:
    # given one customer already known by phone
    known = make_customer(db_session, tenant, phone("+31610000002"), last_name="Known")
    rows = [import_row(i) for i in range(5)]
    rows.append(import_row(0, city="Delft"))  # row 0 again with more: same new customer
    # when imported
    report = service.import_customers(db_session, org_id=tenant.org_id, rows=rows, source="file")
    # then 4 are created, the known one and the repeated row update
    assert report.ok
    assert (report.received, report.created, report.updated, report.duplicates) == (6, 4, 2, 0)
    assert (known.first_name, known.last_name) == ("First2", "Known")
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 5
    assert db_session.scalar(select(func.count()).select_from(CustomerIdentity)) == 10
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == 5
    first = service.find_customer_id(
        db_session, org_id=tenant.org_id, kind=IdentityKind.email, value="user0@example.com"
    )
    assert (
        service.get_customer(db_session, org_id=tenant.org_id, customer_id=first or 0).city
        == "Delft"
    )
    # when the same file comes again, then nothing is stored twice
    again = service.import_customers(db_session, org_id=tenant.org_id, rows=rows, source="file")
    assert (again.created, again.updated, again.duplicates) == (0, 0, 6)
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == 5


# --- listing and search --------------------------------------------------------------------------


def test_list_customers_searches_names_and_identities(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    ann = make_customer(
        db_session,
        tenant,
        email("ann@example.com"),
        phone("+48601234567"),
        first_name="Ann",
        last_name="Kowalska",
        country="PL",
        segments=["vip"],
    )
    bob = make_customer(
        db_session,
        tenant,
        handle("instagram", "bobby_nl"),
        external("crm", "CRM-9_1"),
        first_name="Bob",
        country="NL",
    )
    make_customer(db_session, other_tenant, email("ann@example.com"), first_name="Ann")

    def ids(**filters: Any) -> list[int]:
        customers, total = service.list_customers(db_session, org_id=tenant.org_id, **filters)
        assert total == len(customers)
        return [c.id for c in customers]

    assert ids() == [bob.id, ann.id]
    assert ids(query="ann kow") == [ann.id]
    assert ids(query="EXAMPLE.com") == [ann.id]
    assert ids(query="0048 601 234") == [ann.id]
    assert ids(query="@Bobby") == [bob.id]
    assert ids(query="crm-9_1") == [bob.id]
    assert ids(query="%") == []
    assert ids(country="pl") == [ann.id]
    assert ids(segment="vip") == [ann.id]
    assert ids(segment="vi") == []


def test_list_customers_pages_and_hides_merged_and_erased(
    db_session: Session, tenant: Tenant
) -> None:
    customers = [make_customer(db_session, tenant, email(f"c{i}@example.com")) for i in range(5)]
    service.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=customers[0].id,
        merged_id=customers[1].id,
        merged_by="t",
    )
    service.erase_customer(
        db_session, org_id=tenant.org_id, customer_id=customers[2].id, requested_by="t"
    )
    page, total = service.list_customers(db_session, org_id=tenant.org_id, limit=1, offset=1)
    assert total == 3
    assert [c.id for c in page] == [customers[3].id]
    _, everyone = service.list_customers(db_session, org_id=tenant.org_id, include_inactive=True)
    assert everyone == 5


def test_customer_summaries_show_first_email_and_phone(db_session: Session, tenant: Tenant) -> None:
    make_customer(
        db_session, tenant, handle("x", "ann"), email("ann@example.com"), phone("+48601234567")
    )
    page = service.list_customer_summaries(db_session, org_id=tenant.org_id)
    assert page.total == 1
    assert (page.items[0].email, page.items[0].phone) == ("ann@example.com", "+48601234567")


def test_customer_directory_offers_countries_and_segments_of_active_customers(
    db_session: Session, tenant: Tenant
) -> None:
    make_customer(db_session, tenant, email("a@example.com"), country="PL", segments=["vip", "app"])
    make_customer(db_session, tenant, email("b@example.com"), country="NL", segments=["vip"])
    gone = make_customer(db_session, tenant, email("c@example.com"), country="DE", segments=["old"])
    service.erase_customer(db_session, org_id=tenant.org_id, customer_id=gone.id, requested_by="t")
    directory = service.get_customer_directory(db_session, org_id=tenant.org_id, country="PL")
    assert directory.page.total == 1
    assert directory.countries == ["NL", "PL"]
    assert directory.segments == ["app", "vip"]


# --- consent -----------------------------------------------------------------------------------


def test_consent_state_is_the_latest_decision_per_purpose_and_channel(
    db_session: Session, tenant: Tenant
) -> None:
    customer = make_customer(db_session, tenant, email("a@example.com"))
    for decision in (
        consent("marketing", "email", "granted", when(1)),
        consent("marketing", "email", "withdrawn", when(5)),
        consent("surveys", "any", "granted", when(3)),
    ):
        service.record_consent(
            db_session, org_id=tenant.org_id, customer_id=customer.id, consent=decision
        )
    state = service.get_consent_state(db_session, org_id=tenant.org_id, customer_id=customer.id)
    assert [(s.purpose, s.channel, s.status) for s in state] == [
        (ConsentPurpose.marketing, ConsentChannel.email, ConsentStatus.withdrawn),
        (ConsentPurpose.surveys, ConsentChannel.any, ConsentStatus.granted),
    ]
    history = service.list_consent_history(
        db_session, org_id=tenant.org_id, customer_id=customer.id
    )
    assert [r.occurred_at for r in history] == [when(5), when(3), when(1)]


def test_may_contact_follows_decisions_over_time(db_session: Session, tenant: Tenant) -> None:
    # given marketing by email granted on the 1st and withdrawn on the 10th
    customer = make_customer(db_session, tenant, email("a@example.com"))
    for decision in (
        consent("marketing", "email", "granted", when(1)),
        consent("marketing", "email", "withdrawn", when(10)),
    ):
        service.record_consent(
            db_session, org_id=tenant.org_id, customer_id=customer.id, consent=decision
        )

    def may(at: datetime, channel: ConsentChannel = ConsentChannel.email) -> bool:
        return service.may_contact(
            db_session,
            org_id=tenant.org_id,
            customer_id=customer.id,
            purpose=ConsentPurpose.marketing,
            channel=channel,
            at=at,
        )

    # then the answer depends on the moment asked about
    assert not may(datetime(2025, 5, 31, tzinfo=UTC))
    assert may(when(1))
    assert may(when(9))
    assert not may(when(10))
    assert not may(datetime.now(UTC))
    # and another channel without any decision is not allowed
    assert not may(when(5), ConsentChannel.sms)
    with pytest.raises(InvalidInput):
        may(datetime(2025, 6, 5))


def test_may_contact_falls_back_to_any_channel_and_the_newest_decision_wins(
    db_session: Session, tenant: Tenant
) -> None:
    customer = make_customer(db_session, tenant, email("a@example.com"))
    for decision in (
        consent("marketing", "any", "granted", when(1)),
        consent("marketing", "sms", "withdrawn", when(2)),
        consent("marketing", "any", "withdrawn", when(20)),
        consent("marketing", "email", "granted", when(25)),
    ):
        service.record_consent(
            db_session, org_id=tenant.org_id, customer_id=customer.id, consent=decision
        )

    def may(channel: str, at: datetime) -> bool:
        return service.may_contact(
            db_session,
            org_id=tenant.org_id,
            customer_id=customer.id,
            purpose=ConsentPurpose.marketing,
            channel=ConsentChannel(channel),
            at=at,
        )

    assert may("whatsapp", when(5))  # the "any" grant covers a channel with no own decision
    assert not may("sms", when(5))  # the channel's own newer withdrawal
    assert not may("email", when(21))  # "no marketing at all" overrides the older "any" grant
    assert may("email", when(26))  # a newer grant for email alone
    assert not may("whatsapp", when(26))


def test_service_messages_are_allowed_without_consent_until_withdrawn(
    db_session: Session, tenant: Tenant
) -> None:
    customer = make_customer(db_session, tenant, email("a@example.com"))

    def may(purpose: ConsentPurpose) -> bool:
        return service.may_contact(
            db_session,
            org_id=tenant.org_id,
            customer_id=customer.id,
            purpose=purpose,
            channel=ConsentChannel.email,
        )

    # given no consent records: service replies are allowed, surveys are not
    assert may(ConsentPurpose.service)
    assert not may(ConsentPurpose.surveys)
    # when the customer withdraws service contact by email, then that holds
    service.record_consent(
        db_session,
        org_id=tenant.org_id,
        customer_id=customer.id,
        consent=consent("service", "email", "withdrawn", when(1)),
    )
    assert not may(ConsentPurpose.service)


def test_record_consent_needs_a_source(db_session: Session, tenant: Tenant) -> None:
    customer = make_customer(db_session, tenant, email("a@example.com"))
    with pytest.raises(InvalidInput) as caught:
        service.record_consent(
            db_session,
            org_id=tenant.org_id,
            customer_id=customer.id,
            consent=consent("marketing", "email", "granted", when(1), source=" "),
        )
    assert caught.value.field == "source"


# --- merge -------------------------------------------------------------------------------------


def add_order(
    session: Session, tenant: Tenant, customer_id: int, external_id: str, at: datetime
) -> Order:
    order = Order(
        org_id=tenant.org_id,
        external_id=external_id,
        customer_id=customer_id,
        channel=OrderChannel.web,
        placed_at=at,
        total_amount=Decimal("10.00"),
    )
    session.add(order)
    session.flush()
    return order


@pytest.fixture
def order_timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeline source over orders, as a domain would register one."""

    def orders(
        session: Session, org_id: int, customer_ids: list[int]
    ) -> list[timeline.TimelineEntry]:
        rows = session.scalars(
            select(Order).where(Order.org_id == org_id, Order.customer_id.in_(customer_ids))
        )
        return [
            timeline.TimelineEntry(
                occurred_at=o.placed_at, kind="test-order", title=o.external_id, source_id=str(o.id)
            )
            for o in rows
        ]

    monkeypatch.setitem(timeline._sources, "test-orders", orders)


def test_merge_moves_identities_and_consent_and_keeps_history(
    db_session: Session, tenant: Tenant, order_timeline: None
) -> None:
    # given a survivor and a duplicate with its own identities, consent, order and details
    survivor = make_customer(
        db_session, tenant, email("ann@example.com"), first_name="Ann", segments=["vip"]
    )
    duplicate = make_customer(
        db_session,
        tenant,
        phone("+48601234567"),
        first_name="Anna",
        last_name="Kowalska",
        city="Gdansk",
        segments=["app"],
        attributes={"tier": "gold"},
    )
    service.record_consent(
        db_session,
        org_id=tenant.org_id,
        customer_id=duplicate.id,
        consent=consent("marketing", "sms", "granted", when(2)),
    )
    add_order(db_session, tenant, duplicate.id, "ORD-DUP", when(3))
    add_order(db_session, tenant, survivor.id, "ORD-SURV", when(4))
    # when merged
    merge = service.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        merged_by="user:1",
        reason="same person",
    )
    # then the survivor has both identities, the consent, the filled-in fields and both segments
    assert (
        service.find_customer_id(
            db_session, org_id=tenant.org_id, kind=IdentityKind.phone, value="+48 601 234 567"
        )
        == survivor.id
    )
    assert (survivor.first_name, survivor.last_name, survivor.city) == ("Ann", "Kowalska", "Gdansk")
    assert survivor.segments == ["vip", "app"]
    assert survivor.attributes == {"tier": "gold"}
    assert duplicate.merged_into_id == survivor.id
    assert service.may_contact(
        db_session,
        org_id=tenant.org_id,
        customer_id=survivor.id,
        purpose=ConsentPurpose.marketing,
        channel=ConsentChannel.sms,
        at=when(5),
    )
    # and the audit says what moved, without the values
    stored = db_session.scalar(select(CustomerMerge).where(CustomerMerge.id == merge.id))
    assert stored is not None and stored.merged_by == "user:1"
    assert len(stored.moved["identity_ids"]) == 1 and len(stored.moved["consent_record_ids"]) == 1
    assert stored.moved["fields_filled"] == ["last_name", "city"]
    assert "Kowalska" not in json.dumps(stored.moved)
    # and the survivor's timeline shows the duplicate's order; the family names both ids
    view = service.get_customer_360(db_session, org_id=tenant.org_id, customer_id=survivor.id)
    assert view.customer_ids == [survivor.id, duplicate.id]
    assert [e.title for e in view.timeline if e.kind == "test-order"] == ["ORD-SURV", "ORD-DUP"]
    assert [e.kind for e in view.timeline if e.kind == "consent"] == ["consent"]
    assert [i.value for i in view.identities] == ["ann@example.com", "+48601234567"]


def test_family_follows_merges_at_any_depth(db_session: Session, tenant: Tenant) -> None:
    a, b, c = (make_customer(db_session, tenant, email(f"{n}@example.com")) for n in "abc")
    service.merge_customers(
        db_session, org_id=tenant.org_id, survivor_id=b.id, merged_id=a.id, merged_by="t"
    )
    service.merge_customers(
        db_session, org_id=tenant.org_id, survivor_id=c.id, merged_id=b.id, merged_by="t"
    )
    assert service.customer_id_family(db_session, org_id=tenant.org_id, customer_id=c.id) == [
        c.id,
        b.id,
        a.id,
    ]
    # a merged-away id answers for its survivor
    service.record_consent(
        db_session,
        org_id=tenant.org_id,
        customer_id=c.id,
        consent=consent("surveys", "any", "granted", when(1)),
    )
    assert service.may_contact(
        db_session,
        org_id=tenant.org_id,
        customer_id=a.id,
        purpose=ConsentPurpose.surveys,
        channel=ConsentChannel.email,
    )


def test_merge_refuses_self_merged_and_foreign_profiles(
    db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    a = make_customer(db_session, tenant, email("a@example.com"))
    b = make_customer(db_session, tenant, email("b@example.com"))
    foreign = make_customer(db_session, other_tenant, email("f@example.com"))
    with pytest.raises(InvalidInput):
        service.merge_customers(
            db_session, org_id=tenant.org_id, survivor_id=a.id, merged_id=a.id, merged_by="t"
        )
    with pytest.raises(NotFound):
        service.merge_customers(
            db_session, org_id=tenant.org_id, survivor_id=a.id, merged_id=foreign.id, merged_by="t"
        )
    service.merge_customers(
        db_session, org_id=tenant.org_id, survivor_id=a.id, merged_id=b.id, merged_by="t"
    )
    with pytest.raises(Conflict):
        service.merge_customers(
            db_session, org_id=tenant.org_id, survivor_id=b.id, merged_id=a.id, merged_by="t"
        )
    assert foreign.merged_into_id is None


# --- export ------------------------------------------------------------------------------------


def test_export_holds_profiles_identities_consent_and_merges_as_json(
    db_session: Session, tenant: Tenant
) -> None:
    survivor = make_customer(db_session, tenant, email("ann@example.com"), first_name="Ann")
    duplicate = make_customer(db_session, tenant, phone("+48601234567"), city="Gdansk")
    service.record_consent(
        db_session,
        org_id=tenant.org_id,
        customer_id=duplicate.id,
        consent=consent("marketing", "sms", "granted", when(2)),
    )
    service.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=survivor.id,
        merged_id=duplicate.id,
        merged_by="t",
    )
    export = service.export_customer(db_session, org_id=tenant.org_id, customer_id=survivor.id)
    # it survives a JSON round trip
    export = json.loads(json.dumps(export))
    assert export["customer_ids"] == [survivor.id, duplicate.id]
    assert [p["id"] for p in export["profiles"]] == [survivor.id, duplicate.id]
    assert export["profiles"][0]["first_name"] == "Ann"
    assert {i["value"] for i in export["identities"]} == {"ann@example.com", "+48601234567"}
    assert [(c["purpose"], c["channel"], c["status"]) for c in export["consent_history"]] == [
        ("marketing", "sms", "granted")
    ]
    assert [(m["survivor_id"], m["merged_id"]) for m in export["merges"]] == [
        (survivor.id, duplicate.id)
    ]


def test_may_contact_each_and_families_answer_as_one_by_one(
    db_session: Session, tenant: Tenant
) -> None:
    org_id = tenant.org_id
    # given decisions over time on several channels, a profile merged into another (which
    # inherits its consent), one merged into that one too, and an erased profile
    anna = make_customer(db_session, tenant, email("anna@example.com"))
    twin = make_customer(db_session, tenant, email("twin@example.com"))
    third = make_customer(db_session, tenant, email("third@example.com"))
    gone = make_customer(db_session, tenant, email("gone@example.com"))
    for who, decision in (
        (anna, consent("surveys", "any", "granted", when(1))),
        (anna, consent("surveys", "sms", "withdrawn", when(2))),
        (anna, consent("marketing", "email", "granted", when(3))),
        (twin, consent("surveys", "email", "withdrawn", when(5))),
        (gone, consent("surveys", "email", "granted", when(1))),
    ):
        service.record_consent(db_session, org_id=org_id, customer_id=who.id, consent=decision)
    service.merge_customers(
        db_session, org_id=org_id, survivor_id=twin.id, merged_id=third.id, merged_by="t"
    )
    service.merge_customers(
        db_session, org_id=org_id, survivor_id=anna.id, merged_id=twin.id, merged_by="t"
    )
    service.erase_customer(db_session, org_id=org_id, customer_id=gone.id, requested_by="t")
    checks = [
        (who.id, ConsentPurpose(purpose), ConsentChannel(channel), when(day))
        for who in (anna, twin, third, gone)
        for purpose in ("surveys", "marketing", "service")
        for channel in ("email", "sms", "chat")
        for day in (1, 4, 6)
    ]
    # when asked all at once, then each answer is may_contact's
    one_by_one = [
        service.may_contact(db_session, org_id=org_id, customer_id=c, purpose=p, channel=ch, at=at)
        for c, p, ch, at in checks
    ]
    assert service.may_contact_each(db_session, org_id=org_id, checks=checks) == one_by_one
    assert True in one_by_one and False in one_by_one
    # and each family is customer_id_family's (a member may also be asked about as a root)
    ids = [anna.id, twin.id, third.id, gone.id]
    families = service.customer_id_families(db_session, org_id=org_id, customer_ids=ids)
    for customer_id in ids:
        single = service.customer_id_family(db_session, org_id=org_id, customer_id=customer_id)
        assert sorted(families[customer_id]) == sorted(single)
    assert sorted(families[anna.id]) == sorted([anna.id, twin.id, third.id])
    # and an unknown id is a 404, as one by one
    with pytest.raises(NotFound):
        service.may_contact_each(
            db_session,
            org_id=org_id,
            checks=[(987_654, ConsentPurpose.surveys, ConsentChannel.email, when(1))],
        )
