"""Property-based API test: generated requests for every operation never cause a server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from opencx.app import create_app
from tests.conftest import Tenant

# The app reads its database from settings on each request, so one app serves every test database.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_cause_a_server_error(
    case: schemathesis.Case, settings_env: Path, tenant: Tenant
) -> None:
    # given any request the schema allows, when it is sent with a valid key
    response = case.call(headers=tenant.headers)
    # then the API answers with success or a clear client error, never a 5xx
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
