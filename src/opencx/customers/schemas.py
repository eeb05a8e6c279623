"""Pydantic shapes of the customer 360: profiles, identities, consent, merges and erasures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from opencx.customers.models import ConsentChannel, ConsentPurpose, ConsentStatus, IdentityKind
from opencx.customers.timeline import TimelineEntry
from opencx.db import RowId, utcnow

LANGUAGE_CODES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
# Consent given "a moment from now" is clock skew between systems; further ahead is a mistake.
CONSENT_CLOCK_SKEW = timedelta(minutes=5)

_PHONE_SEPARATORS = re.compile(r"[\s\-().\/]")
_PHONE_DIGITS = re.compile(r"[0-9]{7,15}")
_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9._-]{0,49}")
_NAMESPACED_KINDS = (IdentityKind.social, IdentityKind.external)


def _blank_to_none(value: Any) -> Any:
    """Imports and forms send "" for a missing value; store that as no value."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _language_code(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.lower()
    if code not in LANGUAGE_CODES:
        raise PydanticCustomError("language", "must be an ISO 639-1 code such as en, nl or pl")
    return code


def _country_code(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise PydanticCustomError("country", "must be an ISO 3166 alpha-2 code such as NL or PL")
    return code


def _segment_list(values: list[str]) -> list[str]:
    segments: list[str] = []
    for value in values:
        segment = value.strip()
        if not segment:
            raise PydanticCustomError("segment", "segment names must not be empty")
        if segment not in segments:
            segments.append(segment)
    return segments


ProfileText = Annotated[
    Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)
]
LanguageCode = Annotated[
    str | None, BeforeValidator(_blank_to_none), AfterValidator(_language_code)
]
CountryCode = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_country_code)]
Segments = Annotated[list[Annotated[str, Field(max_length=100)]], AfterValidator(_segment_list)]


def normalize_identity_value(kind: IdentityKind, value: str) -> str:
    """The stored form of an identity: how two spellings of one address become equal."""
    value = value.strip()
    if kind is IdentityKind.email:
        try:
            checked = validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise PydanticCustomError(
                "email", "not a valid email address: {why}", {"why": str(exc)}
            ) from exc
        return checked.normalized.lower()
    if kind is IdentityKind.phone:
        compact = _PHONE_SEPARATORS.sub("", value)
        if compact.startswith("+"):
            digits = compact[1:]
        elif compact.startswith("00"):
            digits = compact[2:]
        elif compact.startswith("0"):
            raise PydanticCustomError(
                "phone", "write the number with its country code, such as +31 6 1234 5678"
            )
        else:
            digits = compact
        if not _PHONE_DIGITS.fullmatch(digits):
            raise PydanticCustomError(
                "phone", "must be a phone number of 7 to 15 digits with its country code"
            )
        return "+" + digits
    if kind is IdentityKind.social:
        value = value.lstrip("@").lower()
    if not value or any(ch.isspace() for ch in value):
        raise PydanticCustomError("identity", "must be non-empty and contain no spaces")
    return value


class IdentityIn(BaseModel):
    """An address or account that identifies a customer; values are stored normalized."""

    kind: IdentityKind
    namespace: str = Field(
        default="",
        max_length=50,
        validate_default=True,
        description="social: the network (instagram, whatsapp, ...); external: the system (shopify, crm, ...)",
    )
    value: str = Field(max_length=320)

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, namespace: str, info: ValidationInfo) -> str:
        namespace = namespace.strip().lower()
        kind = info.data.get("kind")
        if kind in _NAMESPACED_KINDS:
            if not _NAMESPACE.fullmatch(namespace):
                raise PydanticCustomError(
                    "namespace",
                    "required for social and external identities: the network or system name, "
                    "in lower-case letters, digits, '.', '_' or '-'",
                )
        elif namespace:
            raise PydanticCustomError(
                "namespace", "only social and external identities have a namespace"
            )
        return namespace

    @field_validator("value")
    @classmethod
    def _normalize_value(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        return normalize_identity_value(kind, value) if kind is not None else value

    @property
    def key(self) -> tuple[IdentityKind, str, str]:
        return (self.kind, self.namespace, self.value)


class ConsentIn(BaseModel):
    """One consent decision as the customer gave it."""

    purpose: ConsentPurpose
    channel: ConsentChannel = Field(description="'any' covers every channel for the purpose")
    status: ConsentStatus
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    source: str = Field(
        default="",
        max_length=200,
        description="where the decision was given (web form, call, file); "
        "empty in an upsert or import: that request's source",
    )

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, occurred_at: datetime) -> datetime:
        occurred_at = occurred_at.astimezone(UTC)
        if occurred_at > utcnow() + CONSENT_CLOCK_SKEW:
            raise PydanticCustomError("future", "a consent decision cannot lie in the future")
        return occurred_at

    @field_validator("source")
    @classmethod
    def _strip_source(cls, source: str) -> str:
        return source.strip()


class CustomerIn(BaseModel):
    """A customer as a system or person describes them; upserted by any of the identities."""

    first_name: ProfileText = None
    last_name: ProfileText = None
    language: LanguageCode = Field(default=None, description="ISO 639-1, such as nl")
    country: CountryCode = Field(default=None, description="ISO 3166 alpha-2, such as NL")
    city: ProfileText = None
    segments: Segments = Field(default_factory=list)
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    identities: list[IdentityIn] = Field(
        min_length=1,
        description="at least one email, phone, social handle or external id, to recognise the "
        "customer next time",
    )
    consents: list[ConsentIn] = Field(default_factory=list)

    @field_validator("identities")
    @classmethod
    def _distinct_identities(cls, identities: list[IdentityIn]) -> list[IdentityIn]:
        seen: dict[tuple[IdentityKind, str, str], IdentityIn] = {}
        for identity in identities:
            seen.setdefault(identity.key, identity)
        return list(seen.values())


class CustomerPatch(BaseModel):
    """Changes to a profile: fields left out stay; `attributes` merges, a null value removes a key."""

    first_name: ProfileText = None
    last_name: ProfileText = None
    language: LanguageCode = None
    country: CountryCode = None
    city: ProfileText = None
    segments: Segments | None = Field(default=None, description="replaces the segment list")
    attributes: dict[str, JsonValue] | None = None


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: IdentityKind
    namespace: str
    value: str
    created_at: datetime


class ConsentState(BaseModel):
    """The current decision for one purpose and channel: the latest record."""

    model_config = ConfigDict(from_attributes=True)

    purpose: ConsentPurpose
    channel: ConsentChannel
    status: ConsentStatus
    occurred_at: datetime
    source: str

    @property
    def granted(self) -> bool:
        return self.status is ConsentStatus.granted


class ConsentRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    purpose: ConsentPurpose
    channel: ConsentChannel
    status: ConsentStatus
    occurred_at: datetime
    source: str
    created_at: datetime


class CustomerSummary(BaseModel):
    """A customer in a list: who, where, and how to reach them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str | None
    last_name: str | None
    language: str | None
    country: str | None
    city: str | None
    segments: list[str]
    email: str | None = None
    phone: str | None = None
    merged_into_id: int | None
    erased_at: datetime | None
    created_at: datetime

    @property
    def display_name(self) -> str:
        return display_name(self.id, self.first_name, self.last_name, self.erased_at)


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str | None
    last_name: str | None
    language: str | None
    country: str | None
    city: str | None
    segments: list[str]
    attributes: dict[str, Any]
    merged_into_id: int | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime
    identities: list[IdentityOut] = Field(default_factory=list)
    consent: list[ConsentState] = Field(
        default_factory=list, description="current decision per purpose and channel"
    )

    @property
    def display_name(self) -> str:
        return display_name(self.id, self.first_name, self.last_name, self.erased_at)


class Customer360(BaseModel):
    """Everything about one customer: profile, identities, consent and the merged timeline."""

    customer: CustomerOut
    customer_ids: list[int] = Field(description="this profile and every profile merged into it")
    consent_history: list[ConsentRecordOut]
    timeline: list[TimelineEntry]

    @property
    def identities(self) -> list[IdentityOut]:
        return self.customer.identities

    @property
    def consent(self) -> list[ConsentState]:
        return self.customer.consent


class MergeIn(BaseModel):
    merged_id: RowId = Field(
        description="the duplicate profile; it is folded into the path's customer"
    )
    reason: str = Field(default="", max_length=500)


class CustomerMergeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    survivor_id: int
    merged_id: int
    merged_by: str
    reason: str
    moved: dict[str, Any]
    created_at: datetime


class CustomerErasureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    requested_by: str
    rows_changed: dict[str, Any]
    created_at: datetime


class CustomerPage(BaseModel):
    total: int
    items: list[CustomerSummary]


class CustomerDirectory(BaseModel):
    """A page of the customer list with the choices its country and segment filters offer."""

    page: CustomerPage
    countries: list[str] = Field(description="countries of active customers, sorted")
    segments: list[str] = Field(description="segments of active customers, sorted")


def display_name(
    customer_id: int, first_name: str | None, last_name: str | None, erased_at: datetime | None
) -> str:
    """How a profile is named on screen, also when it has no name or was erased."""
    if erased_at is not None:
        return f"Erased customer #{customer_id}"
    name = " ".join(part for part in (first_name, last_name) if part)
    return name or f"Customer #{customer_id}"


class ContactPermission(BaseModel):
    """Whether the organization may contact a customer for a purpose on a channel at a moment."""

    customer_id: int
    purpose: ConsentPurpose
    channel: ConsentChannel
    at: datetime
    allowed: bool
