"""Pydantic shapes for organizations, users and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from opencx.auth.models import Role


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    email: str
    name: str
    role: Role
    is_active: bool


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """Returned once, at creation: the only time the secret is shown."""

    secret: str


class Principal(BaseModel):
    """Who is calling: an API key or a signed-in user, always within one organization."""

    org_id: int
    user_id: int | None = None
    api_key_id: int | None = None
    role: Role
    name: str

    @property
    def label(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"api_key:{self.api_key_id}"
