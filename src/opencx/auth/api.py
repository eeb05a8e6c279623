"""REST API of tenancy and access: who am I, API keys."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from opencx.auth import service
from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.auth.schemas import ApiKeyCreated, ApiKeyOut, OrganizationOut, Principal
from opencx.db import RowId

router = APIRouter(prefix="/api/v1", tags=["access"])


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.get("/me", response_model=Principal)
def read_me(principal: ApiPrincipal) -> Principal:
    return principal


@router.get("/organization", response_model=OrganizationOut)
def read_organization(principal: ApiPrincipal, db: DbSession) -> OrganizationOut:
    return OrganizationOut.model_validate(service.get_organization(db, org_id=principal.org_id))


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(principal: ApiPrincipal, db: DbSession) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_api_keys(db, org_id=principal.org_id)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, principal: ApiPrincipal, db: DbSession) -> ApiKeyCreated:
    key, secret = service.create_api_key(db, org_id=principal.org_id, name=body.name)
    return ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "secret": secret}
    )


@router.delete("/api-keys/{api_key_id}", response_model=ApiKeyOut)
def revoke_api_key(api_key_id: RowId, principal: ApiPrincipal, db: DbSession) -> ApiKeyOut:
    return ApiKeyOut.model_validate(
        service.revoke_api_key(db, org_id=principal.org_id, api_key_id=api_key_id)
    )
