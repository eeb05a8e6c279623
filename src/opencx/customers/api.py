"""REST API of the customer 360: profiles, consent, merges, GDPR export and erasure."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.customers import service
from opencx.customers.models import ConsentChannel, ConsentPurpose
from opencx.customers.schemas import (
    ConsentIn,
    ConsentRecordOut,
    ConsentState,
    ContactPermission,
    Customer360,
    CustomerErasureOut,
    CustomerIn,
    CustomerMergeOut,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    MergeIn,
)
from opencx.customers.timeline import TimelineEntry
from opencx.db import RowId, RowOffset, utcnow

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    principal: ApiPrincipal,
    db: DbSession,
    q: Annotated[str | None, Query(description="name, email, phone, handle or external id")] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    segment: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: RowOffset = 0,
) -> CustomerPage:
    return service.list_customer_summaries(
        db,
        org_id=principal.org_id,
        query=q,
        country=country,
        segment=segment,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/customers",
    response_model=CustomerOut,
    responses={
        201: {"description": "created"},
        200: {"description": "an existing customer updated"},
    },
)
def upsert_customer(
    body: CustomerIn, principal: ApiPrincipal, db: DbSession, response: Response
) -> CustomerOut:
    customer, created = service.upsert_customer(
        db, org_id=principal.org_id, data=body, source=f"api:{principal.label}"
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return service.get_customer_profile(db, org_id=principal.org_id, customer_id=customer.id)


@router.get("/customers/{customer_id}", response_model=Customer360)
def read_customer(customer_id: RowId, principal: ApiPrincipal, db: DbSession) -> Customer360:
    return service.get_customer_360(db, org_id=principal.org_id, customer_id=customer_id)


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(
    customer_id: RowId, body: CustomerPatch, principal: ApiPrincipal, db: DbSession
) -> CustomerOut:
    service.update_customer(db, org_id=principal.org_id, customer_id=customer_id, changes=body)
    return service.get_customer_profile(db, org_id=principal.org_id, customer_id=customer_id)


@router.get("/customers/{customer_id}/timeline", response_model=list[TimelineEntry])
def read_timeline(
    customer_id: RowId, principal: ApiPrincipal, db: DbSession
) -> list[TimelineEntry]:
    return service.get_customer_timeline(db, org_id=principal.org_id, customer_id=customer_id)


@router.get("/customers/{customer_id}/consent", response_model=list[ConsentState])
def read_consent(customer_id: RowId, principal: ApiPrincipal, db: DbSession) -> list[ConsentState]:
    return service.get_consent_state(db, org_id=principal.org_id, customer_id=customer_id)


@router.post(
    "/customers/{customer_id}/consent",
    response_model=ConsentRecordOut,
    status_code=status.HTTP_201_CREATED,
)
def record_consent(
    customer_id: RowId, body: ConsentIn, principal: ApiPrincipal, db: DbSession
) -> ConsentRecordOut:
    record = service.record_consent(
        db, org_id=principal.org_id, customer_id=customer_id, consent=body
    )
    return ConsentRecordOut.model_validate(record)


@router.get("/customers/{customer_id}/may-contact", response_model=ContactPermission)
def read_may_contact(
    customer_id: RowId,
    purpose: ConsentPurpose,
    channel: ConsentChannel,
    principal: ApiPrincipal,
    db: DbSession,
    at: AwareDatetime | None = None,
) -> ContactPermission:
    at = at or utcnow()
    allowed = service.may_contact(
        db,
        org_id=principal.org_id,
        customer_id=customer_id,
        purpose=purpose,
        channel=channel,
        at=at,
    )
    return ContactPermission(
        customer_id=customer_id, purpose=purpose, channel=channel, at=at, allowed=allowed
    )


@router.post(
    "/customers/{customer_id}/merge",
    response_model=CustomerMergeOut,
    status_code=status.HTTP_201_CREATED,
)
def merge_customer(
    customer_id: RowId, body: MergeIn, principal: ApiPrincipal, db: DbSession
) -> CustomerMergeOut:
    merge = service.merge_customers(
        db,
        org_id=principal.org_id,
        survivor_id=customer_id,
        merged_id=body.merged_id,
        merged_by=principal.label,
        reason=body.reason,
    )
    return CustomerMergeOut.model_validate(merge)


@router.get("/customers/{customer_id}/export")
def export_customer(customer_id: RowId, principal: ApiPrincipal, db: DbSession) -> dict[str, Any]:
    return service.export_customer(db, org_id=principal.org_id, customer_id=customer_id)


@router.post("/customers/{customer_id}/erase", response_model=CustomerErasureOut)
def erase_customer(
    customer_id: RowId, principal: ApiPrincipal, db: DbSession
) -> CustomerErasureOut:
    erasure = service.erase_customer(
        db, org_id=principal.org_id, customer_id=customer_id, requested_by=principal.label
    )
    return CustomerErasureOut.model_validate(erasure)
