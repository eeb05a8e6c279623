"""Normalization and validation of customer input: identities, codes, consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from opencx.customers.models import IdentityKind
from opencx.customers.schemas import ConsentIn, CustomerIn, IdentityIn


@pytest.mark.parametrize(
    ("kind", "namespace", "value", "stored"),
    [
        ("email", "", "  Ann.Kowalska@Example.COM ", "ann.kowalska@example.com"),
        ("phone", "", "+48 (601) 234-567", "+48601234567"),
        ("phone", "", "0048 601 234 567", "+48601234567"),
        ("phone", "", "48601234567", "+48601234567"),
        ("social", "Instagram", "@Ann_K", "ann_k"),
        ("external", "shopify", " C-00042 ", "C-00042"),
    ],
)
def test_identity_values_are_stored_normalized(
    kind: str, namespace: str, value: str, stored: str
) -> None:
    identity = IdentityIn.model_validate({"kind": kind, "namespace": namespace, "value": value})
    assert identity.value == stored
    assert identity.namespace == namespace.lower()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"kind": "email", "value": "not-an-address"}, "value"),
        ({"kind": "phone", "value": "06 1234 5678"}, "value"),  # national, no country code
        ({"kind": "phone", "value": "+12"}, "value"),
        ({"kind": "social", "value": "ann"}, "namespace"),
        ({"kind": "external", "namespace": "", "value": "C-1"}, "namespace"),
        ({"kind": "email", "namespace": "gmail", "value": "a@example.com"}, "namespace"),
        ({"kind": "social", "namespace": "x", "value": "two words"}, "value"),
    ],
)
def test_bad_identities_are_rejected_naming_the_field(raw: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        IdentityIn.model_validate(raw)
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_customer_codes_are_normalized_and_blank_strings_mean_missing() -> None:
    customer = CustomerIn.model_validate(
        {
            "first_name": " Ann ",
            "last_name": "",
            "language": "PL",
            "country": "pl",
            "segments": ["vip", " vip ", "newsletter"],
            "identities": [
                {"kind": "email", "value": "ann@example.com"},
                {"kind": "email", "value": "ANN@example.com"},
            ],
        }
    )
    assert (customer.first_name, customer.last_name) == ("Ann", None)
    assert (customer.language, customer.country) == ("pl", "PL")
    assert customer.segments == ["vip", "newsletter"]
    assert len(customer.identities) == 1


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"language": "xx"}, ("language",)),
        ({"country": "ZZ"}, ("country",)),
        ({"identities": []}, ("identities",)),
        ({"attributes": {"when": object()}}, ("attributes", "when")),
    ],
)
def test_bad_customer_fields_are_rejected(changes: dict[str, object], loc: tuple[str, ...]) -> None:
    raw: dict[str, object] = {"identities": [{"kind": "email", "value": "a@example.com"}]}
    with pytest.raises(ValidationError) as caught:
        CustomerIn.model_validate(raw | changes)
    assert caught.value.errors()[0]["loc"][: len(loc)] == loc


def test_consent_needs_an_aware_time_not_in_the_future() -> None:
    base = {"purpose": "marketing", "channel": "email", "status": "granted", "source": "form"}
    with pytest.raises(ValidationError):
        ConsentIn.model_validate(base | {"occurred_at": "2025-03-01T10:00:00"})
    with pytest.raises(ValidationError):
        ConsentIn.model_validate(base | {"occurred_at": datetime.now(UTC) + timedelta(days=1)})
    consent = ConsentIn.model_validate(base | {"occurred_at": "2025-03-01T10:00:00+01:00"})
    assert consent.occurred_at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_identity_key_is_kind_namespace_value() -> None:
    identity = IdentityIn(kind=IdentityKind.social, namespace="x", value="@Ann")
    assert identity.key == (IdentityKind.social, "x", "ann")
