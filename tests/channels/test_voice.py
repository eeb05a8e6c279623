"""Voice: signed call events and transcripts become conversations linked to the caller by phone."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.channels.models import VoiceCall
from opencx.conversations import service as conversations
from opencx.conversations.models import Conversation, Message
from opencx.customers.models import Customer
from tests.channels.test_meta import configure
from tests.conftest import Tenant

SECRET = "voice-signing-secret-0001"
DESK = "+31201234567"


def _event(call_id: str, event: str, direction: str = "inbound", **extra: Any) -> dict[str, Any]:
    caller, callee = ("+31 6 1234 5678", DESK) if direction == "inbound" else (DESK, "+48601234567")
    return {
        "call_id": call_id,
        "event": event,
        "direction": direction,
        "from": caller,
        "to": callee,
        "occurred_at": extra.pop("occurred_at", "2026-11-20T09:30:00Z"),
        **extra,
    }


def _post(client: TestClient, tenant: Tenant, payload: dict[str, Any], secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        f"/api/v1/channels/voice/{tenant.slug}",
        content=body,
        headers={"X-OpenCX-Signature": signature, "content-type": "application/json"},
    )


def _counts(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Customer, Conversation, Message, VoiceCall)
    )


def test_an_answered_call_with_a_transcript_becomes_a_conversation_of_the_caller(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given the voice webhook's secret, and a customer known by phone
    configure(client, tenant, "voice", signing_secret=SECRET)
    known = client.post(
        "/api/v1/customers",
        headers=tenant.headers,
        json={"first_name": "Anna", "identities": [{"kind": "phone", "value": "+31612345678"}]},
    )
    assert known.status_code in (200, 201), known.text
    customer_id = known.json()["id"]
    # when the telephony system reports the call: started, answered, ended with a transcript
    started = _post(client, tenant, _event("call-1", "started"))
    assert started.status_code == 200, started.text
    assert started.json()["conversation_created"] is True
    _post(client, tenant, _event("call-1", "answered", occurred_at="2026-11-20T09:30:12Z",
                                 agent_email=tenant.admin_email))  # fmt: skip
    ended_event = _event(
        "call-1", "ended", occurred_at="2026-11-20T09:33:24Z", duration_seconds=192,
        recording_url="https://pbx.example/recordings/call-1.mp3",
        transcript={"turns": [
            {"speaker": "agent", "text": "Goedemorgen, klantenservice.", "offset_seconds": 1},
            {"speaker": "customer", "text": "Mijn bank is beschadigd geleverd.", "offset_seconds": 4},
            {"speaker": "agent", "text": "Dat spijt me, ik stuur een nieuwe.", "offset_seconds": 9},
        ]},
    )  # fmt: skip
    ended = _post(client, tenant, ended_event)
    assert ended.status_code == 200, ended.text
    call = ended.json()["call"]
    # then the call's facts are stored
    assert call["status"] == "ended"
    assert call["direction"] == "inbound"
    assert (call["from_number"], call["to_number"]) == ("+31612345678", DESK)
    assert call["duration_seconds"] == 192
    assert call["recording_url"] == "https://pbx.example/recordings/call-1.mp3"
    assert call["answered_at"].startswith("2026-11-20T09:30:12")
    assert call["transcript_turns"] == 3
    assert call["customer_id"] == customer_id
    # and the conversation on channel voice holds the call, the answer, the transcript, the notes
    detail = client.get(
        f"/api/v1/conversations/{call['conversation_id']}", headers=tenant.headers
    ).json()
    assert detail["channel"] == "voice"
    assert detail["customer_id"] == customer_id
    assert detail["first_response_at"].startswith("2026-11-20T09:30:12")
    assert [(m["direction"], m["author_kind"], m["body"]) for m in detail["messages"]] == [
        ("inbound", "customer", "Phone call from +31612345678"),
        ("outbound", "agent", "Answered the call"),
        ("outbound", "agent", "Goedemorgen, klantenservice."),
        ("inbound", "customer", "Mijn bank is beschadigd geleverd."),
        ("outbound", "agent", "Dat spijt me, ik stuur een nieuwe."),
        ("note", "system", "Call ended after 3 min 12 s."),
        ("note", "system", "Recording: https://pbx.example/recordings/call-1.mp3"),
    ]
    # and text enrichment finds the customer's words among the inbound messages
    bodies = [
        body
        for _, body in conversations.list_inbound_message_bodies(db_session, org_id=tenant.org_id)
    ]
    assert "Mijn bank is beschadigd geleverd." in bodies
    # and the agent who answered is named on the call
    assert call["agent_user_id"] is not None
    # when the same events are delivered again, then nothing new is stored
    before = _counts(db_session)
    again = _post(client, tenant, ended_event)
    assert again.json()["messages_stored"] == 0 and again.json()["duplicates"] > 0
    assert _counts(db_session) == before
    # and the calls are listed by the API
    listed = client.get(
        "/api/v1/voice-calls",
        headers=tenant.headers,
        params={"conversation_id": call["conversation_id"]},
    ).json()
    assert [c["call_id"] for c in listed] == ["call-1"]


def test_a_missed_inbound_call_opens_a_conversation_to_call_back(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    configure(client, tenant, "voice", signing_secret=SECRET)
    # when a call from an unknown number is missed
    response = _post(client, tenant, _event("call-2", "missed", caller_name="Jan Kowalski"))
    assert response.status_code == 200, response.text
    call = response.json()["call"]
    assert call["status"] == "missed"
    # then a new customer with that phone waits in an open conversation tagged for a callback
    detail = client.get(
        f"/api/v1/conversations/{call['conversation_id']}", headers=tenant.headers
    ).json()
    assert detail["status"] == "open"
    assert detail["tags"] == ["callback"]
    assert detail["first_response_at"] is None
    assert detail["subject"] == "Missed call from +31612345678"
    assert [(m["direction"], m["body"]) for m in detail["messages"]] == [
        ("inbound", "Missed call from +31612345678"),
        ("note", "Missed call: call the customer back on +31612345678."),
    ]
    customer = client.get(f"/api/v1/customers/{call['customer_id']}", headers=tenant.headers).json()
    assert customer["customer"]["first_name"] == "Jan"
    assert customer["customer"]["last_name"] == "Kowalski"
    # and the desk's English call lines do not decide the caller's language
    assert customer["customer"]["language"] is None


def test_a_callback_on_the_same_number_continues_the_conversation(
    client: TestClient, tenant: Tenant
) -> None:
    configure(client, tenant, "voice", signing_secret=SECRET)
    missed = _post(client, tenant, _event("call-4", "missed")).json()["call"]
    callback = {
        **_event("call-5", "started", direction="outbound", occurred_at="2026-11-20T10:00:00Z"),
        "from": DESK,
        "to": "+31612345678",
    }
    result = _post(client, tenant, callback).json()
    assert result["call"]["conversation_id"] == missed["conversation_id"]
    detail = client.get(
        f"/api/v1/conversations/{missed['conversation_id']}", headers=tenant.headers
    ).json()
    assert detail["first_response_at"].startswith("2026-11-20T10:00:00")
    assert detail["messages"][-1]["body"] == "Phone call to +31612345678"


def test_bad_signatures_are_401_and_bad_events_422_storing_nothing(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given no secret, the voice webhook is off
    assert _post(client, tenant, _event("call-6", "started")).status_code == 404
    configure(client, tenant, "voice", signing_secret=SECRET)
    configure(client, other_tenant, "voice", signing_secret="globex-voice-secret")
    # when signed with another organization's secret, or unsigned, then 401
    assert (
        _post(client, tenant, _event("call-6", "started"), "globex-voice-secret").status_code == 401
    )
    body = json.dumps(_event("call-6", "started")).encode()
    unsigned = client.post(f"/api/v1/channels/voice/{tenant.slug}", content=body)
    assert unsigned.status_code == 401
    # when signed but not a valid event, then 422 naming the field
    bad = _post(client, tenant, _event("call-6", "rang"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "event"
    no_number = _post(client, tenant, {**_event("call-6", "started"), "from": "anonymous"})
    assert no_number.status_code == 422 and no_number.json()["detail"][0]["loc"][-1] == "from"
    assert _counts(db_session) == (0, 0, 0, 0)
    # and a later event may not change the call's direction
    assert _post(client, tenant, _event("call-7", "started")).status_code == 200
    turned = _post(client, tenant, {**_event("call-7", "ended", direction="outbound")})
    assert turned.status_code == 422 and turned.json()["detail"][0]["loc"][-1] == "direction"
    # and the other organization sees none of acme's calls
    assert client.get("/api/v1/voice-calls", headers=other_tenant.headers).json() == []


def test_a_customers_calls_are_in_their_export_and_erasure_blanks_numbers_and_recording(
    client: TestClient, tenant: Tenant
) -> None:
    configure(client, tenant, "voice", signing_secret=SECRET)
    call = _post(
        client,
        tenant,
        _event("call-8", "ended", recording_url="https://pbx.example/r/8.mp3"),
    ).json()["call"]
    customer = f"/api/v1/customers/{call['customer_id']}"
    # when the customer asks for their data, then their calls are in it
    export = client.get(f"{customer}/export", headers=tenant.headers).json()
    assert [c["call_id"] for c in export["voice_calls"]] == ["call-8"]
    # when they are erased, then the call stays for the measures without number or recording
    erased = client.post(f"{customer}/erase", headers=tenant.headers)
    assert erased.status_code == 200, erased.text
    assert erased.json()["rows_changed"]["voice_calls"] == 1
    (after,) = client.get("/api/v1/voice-calls", headers=tenant.headers).json()
    assert (after["from_number"], after["to_number"], after["recording_url"]) == (None, None, None)
    assert after["status"] == "missed"


def test_a_call_reported_only_by_its_end_is_answered_when_it_has_talk_time(
    client: TestClient, tenant: Tenant
) -> None:
    configure(client, tenant, "voice", signing_secret=SECRET)
    # when a system sends only the call record: ended after 65 s of talk
    call = _post(client, tenant, _event("call-9", "ended", duration_seconds=65)).json()["call"]
    # then the call was answered 65 s before it ended, not missed
    assert call["status"] == "ended"
    assert call["answered_at"].startswith("2026-11-20T09:28:55")
    detail = client.get(
        f"/api/v1/conversations/{call['conversation_id']}", headers=tenant.headers
    ).json()
    assert detail["tags"] == []
    assert call["started_at"].startswith("2026-11-20T09:28:55")
    assert [m["body"] for m in detail["messages"]] == [
        "Phone call from +31612345678",
        "Answered the call",
        "Call ended after 1 min 5 s.",
    ]
