"""Helpers for service-desk tests: an inbound message body and an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from tests.conftest import PASSWORD, Tenant

NOW = datetime.now(UTC).replace(microsecond=0)


def inbound(
    *,
    channel: str = "email",
    sender: str = "anna@example.com",
    message_id: str | None = None,
    body: str = "Mijn bestelling is nog niet geleverd, waar blijft het pakket?",
    minutes_ago: int = 10,
    **extra: Any,
) -> dict[str, Any]:
    """The API body of a customer's message."""
    if channel == "email":
        identity = {"kind": "email", "value": sender}
    else:
        identity = {"kind": "social", "namespace": channel, "value": sender}
    return {
        "channel": channel,
        "channel_message_id": message_id,
        "sender": identity,
        "sender_name": "Anna de Vries",
        "subject": "Waar is mijn bestelling?",
        "body": body,
        "received_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        **extra,
    }


@pytest.fixture
def agent_id(db_session: Session, tenant: Tenant) -> int:
    user = auth_service.create_user(
        db_session,
        org_id=tenant.org_id,
        email="sam@acme.example",
        name="Sam Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    return user.id
