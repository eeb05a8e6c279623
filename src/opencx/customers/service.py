"""Use cases of the customer 360: profiles, identities, imports, consent, merges, export and erasure.

A person can appear under several profiles until someone merges them. A merge moves identities
and consent to the survivor and marks the other profile `merged_into_id`; rows of other domains
keep pointing at the old id, so every timeline, export and erasure hook receives the whole
family of ids (see `customer_id_family`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import cast

from opencx.customers import gdpr, timeline
from opencx.customers.models import (
    ConsentChannel,
    ConsentPurpose,
    ConsentRecord,
    ConsentStatus,
    Customer,
    CustomerErasure,
    CustomerIdentity,
    CustomerMerge,
    IdentityKind,
)
from opencx.customers.schemas import (
    ConsentIn,
    ConsentRecordOut,
    ConsentState,
    Customer360,
    CustomerDirectory,
    CustomerIn,
    CustomerMergeOut,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerSummary,
    IdentityIn,
    IdentityOut,
)
from opencx.db import Base, utcnow
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.ingestion import ImportReport, RowError, row_errors

IdentityKey = tuple[IdentityKind, str, str]
ConsentKey = tuple[int, ConsentPurpose, ConsentChannel, ConsentStatus, datetime, str]
# Ids per IN (...) list: far below the parameter limits of SQLite and PostgreSQL.
_CHUNK = 500
_PROFILE_FIELDS = ("first_name", "last_name", "language", "country", "city")
_LIKE_SPECIALS = re.compile(r"([\\%_])")
_PHONE_QUERY = re.compile(r"[\s\-().\/+]")

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def _invalid_input(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    return InvalidInput(".".join(str(p) for p in first["loc"]), first["msg"])


# --- looking customers up -------------------------------------------------------------------


def get_customer(session: Session, *, org_id: int, customer_id: int) -> Customer:
    """The profile with this id in this organization (merged-away and erased ones included)."""
    customer = session.scalar(
        select(Customer).where(Customer.org_id == org_id, Customer.id == customer_id)
    )
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def get_customers(
    session: Session, *, org_id: int, customer_ids: Iterable[int]
) -> dict[int, Customer]:
    """The profiles with these ids in this organization, by id; ids not found are left out."""
    found: dict[int, Customer] = {}
    for chunk in _chunks(sorted(set(customer_ids))):
        found.update(
            (customer.id, customer)
            for customer in session.scalars(
                select(Customer).where(Customer.org_id == org_id, Customer.id.in_(chunk))
            )
        )
    return found


def _survivor_ids(session: Session, *, org_id: int, customer_ids: Iterable[int]) -> dict[int, int]:
    """Map each id to the profile it was (perhaps over several merges) merged into, or itself."""
    parent: dict[int, int | None] = {}
    pending = sorted(set(customer_ids))
    while pending:
        for chunk in _chunks(pending):
            rows = session.execute(
                select(Customer.id, Customer.merged_into_id).where(
                    Customer.org_id == org_id, Customer.id.in_(chunk)
                )
            )
            parent.update({row.id: row.merged_into_id for row in rows})
        pending = sorted({p for p in parent.values() if p is not None and p not in parent})

    def survivor(customer_id: int) -> int:
        while (next_id := parent.get(customer_id)) is not None:
            customer_id = next_id
        return customer_id

    return {customer_id: survivor(customer_id) for customer_id in parent}


def _survivor(session: Session, *, org_id: int, customer_id: int) -> Customer:
    customer = get_customer(session, org_id=org_id, customer_id=customer_id)
    if customer.merged_into_id is None:
        return customer
    survivor_id = _survivor_ids(session, org_id=org_id, customer_ids=[customer_id])[customer_id]
    return get_customer(session, org_id=org_id, customer_id=survivor_id)


def _writable(session: Session, *, org_id: int, customer_id: int) -> Customer:
    customer = get_customer(session, org_id=org_id, customer_id=customer_id)
    if customer.merged_into_id is not None:
        raise Conflict(f"customer {customer_id} was merged into {customer.merged_into_id}")
    if customer.erased_at is not None:
        raise Conflict(f"customer {customer_id} was erased")
    return customer


def customer_id_family(session: Session, *, org_id: int, customer_id: int) -> list[int]:
    """This profile's id followed by the ids of every profile merged into it (at any depth)."""
    get_customer(session, org_id=org_id, customer_id=customer_id)
    family = [customer_id]
    frontier = [customer_id]
    while frontier:
        children: list[int] = []
        for chunk in _chunks(frontier):
            children.extend(
                session.scalars(
                    select(Customer.id)
                    .where(Customer.org_id == org_id, Customer.merged_into_id.in_(chunk))
                    .order_by(Customer.id)
                )
            )
        family.extend(children)
        frontier = children
    return family


def customer_id_families(
    session: Session, *, org_id: int, customer_ids: Iterable[int]
) -> dict[int, list[int]]:
    """`customer_id_family` of many profiles at once: one query per level of merging."""
    families = {customer_id: [customer_id] for customer_id in customer_ids}
    # Which families each profile of the current level belongs to (one profile may be the
    # root of its own family and a member of another's).
    roots_of: dict[int, list[int]] = {customer_id: [customer_id] for customer_id in families}
    while roots_of:
        level: dict[int, list[int]] = {}
        for chunk in _chunks(sorted(roots_of)):
            rows = session.execute(
                select(Customer.id, Customer.merged_into_id)
                .where(Customer.org_id == org_id, Customer.merged_into_id.in_(chunk))
                .order_by(Customer.id)
            )
            for child, parent in rows:
                for root in roots_of[parent] if parent is not None else []:
                    families[root].append(child)
                    level.setdefault(child, []).append(root)
        roots_of = level
    return families


def _find_owners(
    session: Session, *, org_id: int, keys: Iterable[IdentityKey]
) -> dict[IdentityKey, int]:
    """For each identity already known, the id of the (surviving) customer it belongs to."""
    values_by_kind: dict[tuple[IdentityKind, str], set[str]] = {}
    for kind, namespace, value in keys:
        values_by_kind.setdefault((kind, namespace), set()).add(value)
    owners: dict[IdentityKey, int] = {}
    for (kind, namespace), values in values_by_kind.items():
        for chunk in _chunks(sorted(values)):
            rows = session.execute(
                select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                    CustomerIdentity.org_id == org_id,
                    CustomerIdentity.kind == kind,
                    CustomerIdentity.namespace == namespace,
                    CustomerIdentity.value.in_(chunk),
                )
            )
            owners.update({(kind, namespace, row.value): row.customer_id for row in rows})
    survivors = _survivor_ids(session, org_id=org_id, customer_ids=owners.values())
    return {key: survivors[customer_id] for key, customer_id in owners.items()}


def find_existing_customer_ids(
    session: Session, *, org_id: int, customer_ids: Iterable[int]
) -> set[int]:
    """Which of these ids are customers of this organization (for other domains' imports)."""
    wanted = list(set(customer_ids))
    found: set[int] = set()
    query = select(Customer.id).where(
        Customer.org_id == org_id, Customer.id.in_(bindparam("wanted", expanding=True))
    )
    # Chunks keep the parameter count within every backend's limit; one expanding parameter
    # per chunk is cheaper than coercing hundreds of literals one by one.
    for start in range(0, len(wanted), 10_000):
        found.update(session.scalars(query, {"wanted": wanted[start : start + 10_000]}))
    return found


def find_customer_id(
    session: Session, *, org_id: int, kind: IdentityKind, value: str, namespace: str = ""
) -> int | None:
    """The surviving customer with this identity (normalized first), or None."""
    try:
        identity = IdentityIn(kind=kind, namespace=namespace, value=value)
    except ValidationError as exc:
        raise _invalid_input(exc) from exc
    return _find_owners(session, org_id=org_id, keys=[identity.key]).get(identity.key)


def _escape_like(text: str) -> str:
    return _LIKE_SPECIALS.sub(r"\\\1", text)


def _has_segment(session: Session, segment: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(Customer.segments, JSONB).contains([segment])
    members = func.json_each(Customer.segments).table_valued("value")
    return exists(select(literal(1)).select_from(members).where(members.c.value == segment))


def _in_country_and_segment(
    session: Session, *, country: str | None, segment: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if country:
        conditions.append(Customer.country == country.strip().upper())
    if segment:
        conditions.append(_has_segment(session, segment.strip()))
    return conditions


def _matches_query(org_id: int, query: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(query)}%"
    # Identity values are stored normalized, so search the normalized spellings as well.
    identity_terms = {query.lower(), query.lstrip("@").lower()}
    # Phones are stored as +<country code><number>: drop the 00 or national 0 prefix.
    digits = _PHONE_QUERY.sub("", query).lstrip("0")
    if len(digits) >= 3 and digits.isdigit():
        identity_terms.add(digits)
    full_name = func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
    by_identity = select(CustomerIdentity.customer_id).where(
        CustomerIdentity.org_id == org_id,
        or_(
            *(
                CustomerIdentity.value.ilike(f"%{_escape_like(term)}%", escape="\\")
                for term in sorted(identity_terms)
            )
        ),
    )
    return or_(
        full_name.ilike(pattern, escape="\\"),
        Customer.id.in_(by_identity),
    )


def list_customers(
    session: Session,
    *,
    org_id: int,
    query: str | None = None,
    country: str | None = None,
    segment: str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_inactive: bool = False,
) -> tuple[list[Customer], int]:
    """A page of customers, newest first, and the total; search by name, email, phone, handle, id.

    Merged-away and erased profiles are left out unless `include_inactive`.
    """
    if limit < 1:
        raise InvalidInput("limit", "must be at least 1")
    if offset < 0:
        raise InvalidInput("offset", "must not be negative")
    conditions: list[ColumnElement[bool]] = [Customer.org_id == org_id]
    if not include_inactive:
        conditions += [Customer.merged_into_id.is_(None), Customer.erased_at.is_(None)]
    if query and query.strip():
        conditions.append(_matches_query(org_id, query.strip()))
    conditions += _in_country_and_segment(session, country=country, segment=segment)
    total = session.scalar(select(func.count()).select_from(Customer).where(*conditions)) or 0
    customers = session.scalars(
        select(Customer).where(*conditions).order_by(Customer.id.desc()).limit(limit).offset(offset)
    )
    return list(customers), total


def select_profile_ids(
    session: Session, *, org_id: int, country: str | None, segment: str | None
) -> Select[tuple[int]]:
    """The ids of the customers whose profile (the survivor's, for one merged away) is in the
    country and segment: to filter other domains' rows by their customer_id."""
    profiles = select(Customer.id).where(
        Customer.org_id == org_id,
        Customer.merged_into_id.is_(None),
        Customer.erased_at.is_(None),
        *_in_country_and_segment(session, country=country, segment=segment),
    )
    return select(Customer.id).where(
        Customer.org_id == org_id,
        or_(Customer.id.in_(profiles), Customer.merged_into_id.in_(profiles)),
    )


def list_customer_summaries(
    session: Session,
    *,
    org_id: int,
    query: str | None = None,
    country: str | None = None,
    segment: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CustomerPage:
    """`list_customers` as summaries with each customer's first email and phone."""
    customers, total = list_customers(
        session,
        org_id=org_id,
        query=query,
        country=country,
        segment=segment,
        limit=limit,
        offset=offset,
    )
    contacts: dict[tuple[int, IdentityKind], str] = {}
    rows = session.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.kind, CustomerIdentity.value)
        .where(
            CustomerIdentity.org_id == org_id,
            CustomerIdentity.customer_id.in_([c.id for c in customers]),
            CustomerIdentity.kind.in_([IdentityKind.email, IdentityKind.phone]),
        )
        .order_by(CustomerIdentity.id)
    )
    for row in rows:
        contacts.setdefault((row.customer_id, row.kind), row.value)
    items = [
        CustomerSummary.model_validate(
            {
                **CustomerSummary.model_validate(c).model_dump(exclude={"email", "phone"}),
                "email": contacts.get((c.id, IdentityKind.email)),
                "phone": contacts.get((c.id, IdentityKind.phone)),
            }
        )
        for c in customers
    ]
    return CustomerPage(total=total, items=items)


def get_customer_directory(
    session: Session,
    *,
    org_id: int,
    query: str | None = None,
    country: str | None = None,
    segment: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CustomerDirectory:
    """The customer list page: `list_customer_summaries` and the values its filters offer."""
    page = list_customer_summaries(
        session,
        org_id=org_id,
        query=query,
        country=country,
        segment=segment,
        limit=limit,
        offset=offset,
    )
    active = (
        Customer.org_id == org_id,
        Customer.merged_into_id.is_(None),
        Customer.erased_at.is_(None),
    )
    countries = session.scalars(
        select(Customer.country)
        .where(*active, Customer.country.is_not(None))
        .distinct()
        .order_by(Customer.country)
    )
    # Few distinct segment lists exist; comparing them as text works on SQLite and PostgreSQL.
    segment_lists = session.scalars(
        select(cast(Customer.segments, String)).where(*active).distinct()
    )
    segments = {name for text in segment_lists if text for name in json.loads(text)}
    return CustomerDirectory(page=page, countries=list(countries), segments=sorted(segments))


def list_identities(session: Session, *, org_id: int, customer_id: int) -> list[CustomerIdentity]:
    """The identities of one profile, oldest first."""
    get_customer(session, org_id=org_id, customer_id=customer_id)
    return list(
        session.scalars(
            select(CustomerIdentity)
            .where(CustomerIdentity.org_id == org_id, CustomerIdentity.customer_id == customer_id)
            .order_by(CustomerIdentity.id)
        )
    )


def get_customer_profile(session: Session, *, org_id: int, customer_id: int) -> CustomerOut:
    """One profile with its identities and current consent."""
    customer = get_customer(session, org_id=org_id, customer_id=customer_id)
    profile = CustomerOut.model_validate(customer)
    profile.identities = [
        IdentityOut.model_validate(i)
        for i in list_identities(session, org_id=org_id, customer_id=customer_id)
    ]
    profile.consent = get_consent_state(session, org_id=org_id, customer_id=customer_id)
    return profile


def get_customer_timeline(
    session: Session, *, org_id: int, customer_id: int, limit: int = 500
) -> list[timeline.TimelineEntry]:
    """What happened with this customer and every profile merged into it, newest first."""
    family = customer_id_family(session, org_id=org_id, customer_id=customer_id)
    return timeline.collect_timeline(session, org_id=org_id, customer_ids=family, limit=limit)


def get_customer_360(session: Session, *, org_id: int, customer_id: int) -> Customer360:
    """Profile, identities, consent now and over time, and the timeline of the whole family."""
    profile = get_customer_profile(session, org_id=org_id, customer_id=customer_id)
    family = customer_id_family(session, org_id=org_id, customer_id=customer_id)
    history = list_consent_history(session, org_id=org_id, customer_id=customer_id)
    return Customer360(
        customer=profile,
        customer_ids=family,
        consent_history=[ConsentRecordOut.model_validate(r) for r in history],
        timeline=timeline.collect_timeline(session, org_id=org_id, customer_ids=family),
    )


# --- creating and updating --------------------------------------------------------------------


@dataclass(eq=False)
class _Target:
    """The customer a group of incoming rows describes: an existing one or one to create."""

    customer_id: int | None
    first_row: int
    customer: Customer | None = None


@dataclass
class _Plan:
    targets: list[_Target] = field(default_factory=list)
    row_targets: list[_Target] = field(default_factory=list)
    known: dict[IdentityKey, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def _describe(target: _Target) -> str:
    if target.customer_id is not None:
        return f"id {target.customer_id}"
    return f"the new customer of row {target.first_row}"


def _plan(session: Session, *, org_id: int, rows: list[CustomerIn]) -> _Plan:
    """Decide, without writing, which customer each row updates or creates."""
    plan = _Plan()
    plan.known = _find_owners(
        session, org_id=org_id, keys=[i.key for row in rows for i in row.identities]
    )
    existing: dict[int, _Target] = {}
    by_key: dict[IdentityKey, _Target] = {}
    for index, row in enumerate(rows):
        found: list[_Target] = []
        for identity in row.identities:
            target = by_key.get(identity.key)
            if target is None and identity.key in plan.known:
                owner = plan.known[identity.key]
                target = existing.get(owner)
                if target is None:
                    target = existing[owner] = _Target(customer_id=owner, first_row=index)
                    plan.targets.append(target)
            if target is not None and target not in found:
                found.append(target)
        if len(found) > 1:
            if all(t.customer_id is not None for t in found):
                who = "ids " + ", ".join(str(t.customer_id) for t in found)
            else:
                who = ", ".join(_describe(t) for t in found)
            plan.errors.append(
                RowError(
                    index=index,
                    field="identities",
                    reason=f"belong to different customers ({who}); merge them first",
                )
            )
            continue
        if found:
            target = found[0]
        else:
            target = _Target(customer_id=None, first_row=index)
            plan.targets.append(target)
        plan.row_targets.append(target)
        by_key.update({identity.key: target for identity in row.identities})
    return plan


def _apply_profile(customer: Customer, data: CustomerIn) -> bool:
    """Copy what the row says onto the profile; True when something changed."""
    changed = False
    for name in _PROFILE_FIELDS:
        value = getattr(data, name)
        if value is not None and getattr(customer, name) != value:
            setattr(customer, name, value)
            changed = True
    added = [s for s in data.segments if s not in customer.segments]
    if added:
        customer.segments = [*customer.segments, *added]
        changed = True
    if any(customer.attributes.get(k, ...) != v for k, v in data.attributes.items()):
        customer.attributes = {**customer.attributes, **data.attributes}
        changed = True
    return changed


def _known_consents(session: Session, *, org_id: int, customer_ids: list[int]) -> set[ConsentKey]:
    known: set[ConsentKey] = set()
    for chunk in _chunks(customer_ids):
        rows = session.execute(
            select(
                ConsentRecord.customer_id,
                ConsentRecord.purpose,
                ConsentRecord.channel,
                ConsentRecord.status,
                ConsentRecord.occurred_at,
                ConsentRecord.source,
            ).where(ConsentRecord.org_id == org_id, ConsentRecord.customer_id.in_(chunk))
        )
        known.update(tuple(row) for row in rows)  # type: ignore[misc]
    return known


def _save(
    session: Session, *, org_id: int, rows: list[CustomerIn], plan: _Plan, source: str
) -> ImportReport:
    """Write a conflict-free plan with few statements; report what each row did."""
    report = ImportReport(received=len(rows))
    existing_ids = [t.customer_id for t in plan.targets if t.customer_id is not None]
    loaded: dict[int, Customer] = {}
    for chunk in _chunks(existing_ids):
        loaded.update(
            (c.id, c)
            for c in session.scalars(
                select(Customer).where(Customer.org_id == org_id, Customer.id.in_(chunk))
            )
        )
    new_customers: list[Customer] = []
    for target in plan.targets:
        if target.customer_id is None:
            target.customer = Customer(org_id=org_id, segments=[], attributes={})
            new_customers.append(target.customer)
        else:
            target.customer = loaded[target.customer_id]
    # Profiles first and one flush, so new customers are inserted once, already filled in.
    row_changed = [
        _apply_profile(target.customer, row)  # type: ignore[arg-type]
        for target, row in zip(plan.row_targets, rows, strict=True)
    ]
    session.add_all(new_customers)
    session.flush()

    known_identities = set(plan.known)
    known_consents = _known_consents(session, org_id=org_id, customer_ids=existing_ids)
    identity_rows: list[dict[str, Any]] = []
    consent_rows: list[dict[str, Any]] = []
    for index, (target, row) in enumerate(zip(plan.row_targets, rows, strict=True)):
        customer_id = target.customer.id  # type: ignore[union-attr]
        for identity in row.identities:
            if identity.key not in known_identities:
                known_identities.add(identity.key)
                identity_rows.append(
                    {
                        "org_id": org_id,
                        "customer_id": customer_id,
                        "kind": identity.kind,
                        "namespace": identity.namespace,
                        "value": identity.value,
                    }
                )
                row_changed[index] = True
        for consent in row.consents:
            key = (
                customer_id,
                consent.purpose,
                consent.channel,
                consent.status,
                consent.occurred_at,
                consent.source or source,
            )
            if key not in known_consents:
                known_consents.add(key)
                consent_rows.append(
                    {
                        "org_id": org_id,
                        "customer_id": customer_id,
                        "purpose": consent.purpose,
                        "channel": consent.channel,
                        "status": consent.status,
                        "occurred_at": consent.occurred_at,
                        "source": key[5],
                    }
                )
                row_changed[index] = True
        if target.customer_id is None and target.first_row == index:
            report.created += 1
        elif row_changed[index]:
            report.updated += 1
        else:
            report.duplicates += 1
    # Plain table inserts: nothing reads these rows back as objects, and the ORM bulk path
    # costs about a third more time per row.
    if identity_rows:
        session.execute(insert(_table(CustomerIdentity)), identity_rows)
    if consent_rows:
        session.execute(insert(_table(ConsentRecord)), consent_rows)
    return report


def _require_source(source: str) -> None:
    # Consent records without their own source take this one; consent needs its provenance.
    if not source.strip():
        raise InvalidInput("source", "say where the data comes from (a system, file or form)")


def upsert_customer(
    session: Session, *, org_id: int, data: CustomerIn, source: str
) -> tuple[Customer, bool]:
    """Find the customer by any of the identities, or create one; merge in what `data` says.

    Returns the customer and whether it was created. Consents without a source get `source`.
    """
    _require_source(source)
    plan = _plan(session, org_id=org_id, rows=[data])
    if plan.errors:
        raise InvalidInput(plan.errors[0].field, plan.errors[0].reason)
    _save(session, org_id=org_id, rows=[data], plan=plan, source=source)
    target = plan.row_targets[0]
    assert target.customer is not None
    return target.customer, target.customer_id is None


def import_customers(
    session: Session, *, org_id: int, rows: list[dict[str, Any]], source: str
) -> ImportReport:
    """Validate every row, then upsert them all; with any row error nothing is written."""
    _require_source(source)
    report = ImportReport(received=len(rows))
    parsed: list[CustomerIn] = []
    for index, raw in enumerate(rows):
        try:
            parsed.append(CustomerIn.model_validate(raw))
        except ValidationError as exc:
            report.errors.extend(row_errors(index, exc))
    if report.errors:
        return report
    plan = _plan(session, org_id=org_id, rows=parsed)
    if plan.errors:
        report.errors = plan.errors
        return report
    return _save(session, org_id=org_id, rows=parsed, plan=plan, source=source)


def update_customer(
    session: Session, *, org_id: int, customer_id: int, changes: CustomerPatch
) -> Customer:
    """Change profile fields; `attributes` merge key by key and a null value removes the key."""
    customer = _writable(session, org_id=org_id, customer_id=customer_id)
    for name in _PROFILE_FIELDS:
        if name in changes.model_fields_set:
            setattr(customer, name, getattr(changes, name))
    if changes.segments is not None:
        customer.segments = changes.segments
    if changes.attributes is not None:
        attributes = {**customer.attributes, **changes.attributes}
        customer.attributes = {k: v for k, v in attributes.items() if v is not None}
    session.flush()
    return customer


# --- consent ----------------------------------------------------------------------------------


def record_consent(
    session: Session, *, org_id: int, customer_id: int, consent: ConsentIn
) -> ConsentRecord:
    """Store one consent decision of the customer."""
    customer = _writable(session, org_id=org_id, customer_id=customer_id)
    if not consent.source:
        raise InvalidInput("source", "say where the decision was given (form, call, file)")
    record = ConsentRecord(
        org_id=org_id,
        customer_id=customer.id,
        purpose=consent.purpose,
        channel=consent.channel,
        status=consent.status,
        occurred_at=consent.occurred_at,
        source=consent.source,
    )
    session.add(record)
    session.flush()
    return record


def list_consent_history(session: Session, *, org_id: int, customer_id: int) -> list[ConsentRecord]:
    """Every consent decision of the profile, newest first."""
    get_customer(session, org_id=org_id, customer_id=customer_id)
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.org_id == org_id, ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.occurred_at.desc(), ConsentRecord.id.desc())
        )
    )


def get_consent_state(session: Session, *, org_id: int, customer_id: int) -> list[ConsentState]:
    """The latest decision per purpose and channel, ordered by purpose and channel."""
    latest: dict[tuple[ConsentPurpose, ConsentChannel], ConsentRecord] = {}
    for record in list_consent_history(session, org_id=org_id, customer_id=customer_id):
        latest.setdefault((record.purpose, record.channel), record)
    return [ConsentState.model_validate(latest[key]) for key in sorted(latest)]


def may_contact(
    session: Session,
    *,
    org_id: int,
    customer_id: int,
    purpose: ConsentPurpose,
    channel: ConsentChannel,
    at: datetime | None = None,
) -> bool:
    """Whether the customer may be contacted for `purpose` on `channel` at `at` (default: now).

    The newest decision made by `at` for this channel or for channel "any" counts (on a tie the
    channel's own decision wins), so "no marketing at all" overrides an older "email is fine".
    With no decision the answer is no, except for purpose "service": a customer who writes to
    us may be answered (the contract or their request is the legal basis) until they withdraw
    it. Erased customers are never contacted; a merged-away id answers for its survivor.
    """
    if at is None:
        at = utcnow()
    elif at.tzinfo is None:
        raise InvalidInput("at", "must include a timezone")
    customer = _survivor(session, org_id=org_id, customer_id=customer_id)
    if customer.erased_at is not None:
        return False
    decisions = session.execute(
        select(ConsentRecord.status, ConsentRecord.channel, ConsentRecord.occurred_at)
        .where(
            ConsentRecord.org_id == org_id,
            ConsentRecord.customer_id == customer.id,
            ConsentRecord.purpose == purpose,
            ConsentRecord.channel.in_([channel, ConsentChannel.any]),
            ConsentRecord.occurred_at <= at,
        )
        .order_by(ConsentRecord.id)
    ).all()
    return _decisions_allow(decisions, purpose=purpose, channel=channel)


def _decisions_allow(
    decisions: Sequence[Any], *, purpose: ConsentPurpose, channel: ConsentChannel
) -> bool:
    """The rule of `may_contact` over the decisions (status, channel, occurred_at) made by then."""
    if not decisions:
        return purpose is ConsentPurpose.service
    latest = max(decisions, key=lambda d: (d.occurred_at, d.channel == channel))
    return bool(latest.status is ConsentStatus.granted)


def may_contact_each(
    session: Session,
    *,
    org_id: int,
    checks: Sequence[tuple[int, ConsentPurpose, ConsentChannel, datetime]],
) -> list[bool]:
    """`may_contact` for many (customer_id, purpose, channel, at) at once, in a few queries."""
    survivors = _survivor_ids(session, org_id=org_id, customer_ids=[c[0] for c in checks])
    if missing := next((c[0] for c in checks if c[0] not in survivors), None):
        raise NotFound("customer", missing)
    ids = sorted(set(survivors.values()))
    purposes = sorted({c[1] for c in checks})
    erased: set[int] = set()
    decisions: dict[tuple[int, ConsentPurpose], list[Any]] = {}
    for chunk in _chunks(ids):
        erased.update(
            session.scalars(
                select(Customer.id).where(
                    Customer.org_id == org_id,
                    Customer.id.in_(chunk),
                    Customer.erased_at.is_not(None),
                )
            )
        )
        for row in session.execute(
            select(
                ConsentRecord.customer_id,
                ConsentRecord.purpose,
                ConsentRecord.status,
                ConsentRecord.channel,
                ConsentRecord.occurred_at,
            )
            .where(
                ConsentRecord.org_id == org_id,
                ConsentRecord.customer_id.in_(chunk),
                ConsentRecord.purpose.in_(purposes),
            )
            .order_by(ConsentRecord.id)
        ):
            decisions.setdefault((row.customer_id, row.purpose), []).append(row)
    answers = []
    for customer_id, purpose, channel, at in checks:
        if at.tzinfo is None:
            raise InvalidInput("at", "must include a timezone")
        survivor = survivors[customer_id]
        made = [
            d
            for d in decisions.get((survivor, purpose), [])
            if d.channel in (channel, ConsentChannel.any) and d.occurred_at <= at
        ]
        answers.append(
            survivor not in erased and _decisions_allow(made, purpose=purpose, channel=channel)
        )
    return answers


def list_customer_ids_with_consent(
    session: Session, *, org_id: int, purpose: ConsentPurpose, after_id: int = 0, limit: int = 500
) -> list[int]:
    """Active profiles (not merged away, not erased) that ever granted `purpose`, by id after `after_id`.

    A first sieve for bulk invitations; `may_contact` still decides each one (a later withdrawal).
    """
    granted = select(ConsentRecord.customer_id).where(
        ConsentRecord.org_id == org_id,
        ConsentRecord.purpose == purpose,
        ConsentRecord.status == ConsentStatus.granted,
    )
    return list(
        session.scalars(
            select(Customer.id)
            .where(
                Customer.org_id == org_id,
                Customer.id > after_id,
                Customer.merged_into_id.is_(None),
                Customer.erased_at.is_(None),
                Customer.id.in_(granted),
            )
            .order_by(Customer.id)
            .limit(limit)
        )
    )


# --- merging ----------------------------------------------------------------------------------


def merge_customers(
    session: Session,
    *,
    org_id: int,
    survivor_id: int,
    merged_id: int,
    merged_by: str,
    reason: str = "",
) -> CustomerMerge:
    """Fold `merged_id` into `survivor_id`: identities and consent move, empty fields fill in."""
    if survivor_id == merged_id:
        raise InvalidInput("merged_id", "a customer cannot be merged into itself")
    survivor = _writable(session, org_id=org_id, customer_id=survivor_id)
    merged = _writable(session, org_id=org_id, customer_id=merged_id)
    identity_ids = list(
        session.scalars(
            select(CustomerIdentity.id).where(
                CustomerIdentity.org_id == org_id, CustomerIdentity.customer_id == merged_id
            )
        )
    )
    consent_ids = list(
        session.scalars(
            select(ConsentRecord.id).where(
                ConsentRecord.org_id == org_id, ConsentRecord.customer_id == merged_id
            )
        )
    )
    session.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.org_id == org_id, CustomerIdentity.customer_id == merged_id)
        .values(customer_id=survivor_id)
    )
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.org_id == org_id, ConsentRecord.customer_id == merged_id)
        .values(customer_id=survivor_id)
    )
    filled = [
        name
        for name in _PROFILE_FIELDS
        if getattr(survivor, name) is None and getattr(merged, name) is not None
    ]
    for name in filled:
        setattr(survivor, name, getattr(merged, name))
    segments_added = [s for s in merged.segments if s not in survivor.segments]
    survivor.segments = [*survivor.segments, *segments_added]
    attribute_keys_added = sorted(k for k in merged.attributes if k not in survivor.attributes)
    survivor.attributes = {**merged.attributes, **survivor.attributes}
    merged.merged_into_id = survivor_id
    # The audit names what moved, never the values, so it holds no personal data.
    audit = CustomerMerge(
        org_id=org_id,
        survivor_id=survivor_id,
        merged_id=merged_id,
        merged_by=merged_by,
        reason=reason,
        moved={
            "identity_ids": identity_ids,
            "consent_record_ids": consent_ids,
            "fields_filled": filled,
            "segments_added": segments_added,
            "attribute_keys_added": attribute_keys_added,
        },
    )
    session.add(audit)
    session.flush()
    return audit


def list_merges(session: Session, *, org_id: int, customer_ids: list[int]) -> list[CustomerMerge]:
    """Merge audit records that involve any of these profiles, oldest first."""
    return list(
        session.scalars(
            select(CustomerMerge)
            .where(
                CustomerMerge.org_id == org_id,
                or_(
                    CustomerMerge.survivor_id.in_(customer_ids),
                    CustomerMerge.merged_id.in_(customer_ids),
                ),
            )
            .order_by(CustomerMerge.id)
        )
    )


# --- GDPR: export and erasure -----------------------------------------------------------------


def export_customer(session: Session, *, org_id: int, customer_id: int) -> dict[str, Any]:
    """Everything kept about the person behind this profile, JSON-ready (GDPR article 15/20)."""
    family = customer_id_family(session, org_id=org_id, customer_id=customer_id)
    return {
        "customer_id": customer_id,
        "customer_ids": family,
        "exported_at": utcnow().isoformat(),
        **gdpr.collect_export(session, org_id=org_id, customer_ids=family),
    }


def erase_customer(
    session: Session, *, org_id: int, customer_id: int, requested_by: str
) -> CustomerErasure:
    """Erase the personal data of the person behind this profile in every domain (article 17).

    Works on the survivor's whole family. Names, city, attributes and identities go; country,
    language, segments and consent records (no personal data) stay for aggregates and proof.
    """
    survivor = _survivor(session, org_id=org_id, customer_id=customer_id)
    family = customer_id_family(session, org_id=org_id, customer_id=survivor.id)
    changed = gdpr.run_erasure_hooks(session, org_id=org_id, customer_ids=family)
    audit = CustomerErasure(
        org_id=org_id, customer_id=survivor.id, requested_by=requested_by, rows_changed=changed
    )
    session.add(audit)
    session.flush()
    return audit


def _export_own_data(
    session: Session, org_id: int, customer_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    customers = session.scalars(
        select(Customer)
        .where(Customer.org_id == org_id, Customer.id.in_(customer_ids))
        .order_by(Customer.id)
    )
    identities = session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.org_id == org_id, CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    consents = session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.org_id == org_id, ConsentRecord.customer_id.in_(customer_ids))
        .order_by(ConsentRecord.occurred_at, ConsentRecord.id)
    )
    merges = list_merges(session, org_id=org_id, customer_ids=customer_ids)
    return {
        "profiles": [
            CustomerOut.model_validate(c).model_dump(mode="json", exclude={"identities", "consent"})
            for c in customers
        ],
        "identities": [
            {**IdentityOut.model_validate(i).model_dump(mode="json"), "customer_id": i.customer_id}
            for i in identities
        ],
        "consent_history": [
            ConsentRecordOut.model_validate(r).model_dump(mode="json") for r in consents
        ],
        "merges": [CustomerMergeOut.model_validate(m).model_dump(mode="json") for m in merges],
    }


def _erase_own_data(session: Session, org_id: int, customer_ids: list[int]) -> dict[str, int]:
    now = utcnow()
    customers = list(
        session.scalars(
            select(Customer).where(Customer.org_id == org_id, Customer.id.in_(customer_ids))
        )
    )
    for customer in customers:
        customer.first_name = customer.last_name = customer.city = None
        customer.attributes = {}
        customer.erased_at = customer.erased_at or now
    identities = session.execute(
        delete(CustomerIdentity).where(
            CustomerIdentity.org_id == org_id, CustomerIdentity.customer_id.in_(customer_ids)
        )
    )
    # A merge reason is free text an agent typed; it may quote the person.
    merges = session.execute(
        update(CustomerMerge)
        .where(
            CustomerMerge.org_id == org_id,
            or_(
                CustomerMerge.survivor_id.in_(customer_ids),
                CustomerMerge.merged_id.in_(customer_ids),
            ),
        )
        .values(reason="")
    )
    session.flush()
    assert isinstance(identities, CursorResult) and isinstance(merges, CursorResult)
    return {
        "customers": len(customers),
        "customer_identities": identities.rowcount,
        "customer_merges": merges.rowcount,
    }


def _consent_timeline(
    session: Session, org_id: int, customer_ids: list[int]
) -> list[timeline.TimelineEntry]:
    records = session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.org_id == org_id, ConsentRecord.customer_id.in_(customer_ids)
        )
    )
    return [
        timeline.TimelineEntry(
            occurred_at=r.occurred_at,
            kind="consent",
            title=f"Consent {r.status} for {r.purpose} ({r.channel})",
            detail=f"source: {r.source}",
            source_id=str(r.id),
            data={
                "customer_id": r.customer_id,
                "purpose": r.purpose.value,
                "channel": r.channel.value,
                "status": r.status.value,
            },
        )
        for r in records
    ]


timeline.register_timeline_source("consent", _consent_timeline)
gdpr.register_export_source("customers", _export_own_data)
gdpr.register_erasure_hook("customers", _erase_own_data)
