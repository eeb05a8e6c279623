"""Conversations through the API: inbound messages, threading, reopening, agents' actions, merges."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.conversations.models import Conversation, Message
from tests.conftest import Tenant
from tests.conversations.conftest import inbound


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_first_message_creates_customer_and_conversation_and_a_redelivery_is_stored_once(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # when an email from an unknown address arrives
    body = inbound(message_id="<m1@example.com>")
    first = client.post("/api/v1/conversations/messages", headers=tenant.headers, json=body)
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["customer_created"] and result["conversation_created"]
    assert not result["duplicate"]
    conversation = result["conversation"]
    assert conversation["status"] == "open"
    assert conversation["subject"] == "Waar is mijn bestelling?"
    # then the customer exists with that email, named from the sender, in the language written
    customer = client.get(
        f"/api/v1/customers/{conversation['customer_id']}", headers=tenant.headers
    ).json()
    assert customer["customer"]["first_name"] == "Anna"
    assert customer["customer"]["last_name"] == "de Vries"
    assert customer["customer"]["language"] == "nl"
    assert [i["value"] for i in customer["customer"]["identities"]] == ["anna@example.com"]
    # when the channel delivers the same message again
    again = client.post("/api/v1/conversations/messages", headers=tenant.headers, json=body)
    # then it is reported as a duplicate and nothing is stored twice
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["message"]["id"] == result["message"]["id"]
    assert _count(db_session, Message) == 1
    assert _count(db_session, Conversation) == 1


def test_email_threads_by_references_and_a_new_email_is_a_new_conversation(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    url = "/api/v1/conversations/messages"
    first = client.post(url, headers=h, json=inbound(message_id="<a@x>")).json()
    # when the customer answers in the thread (the reply names the first message)
    follow = client.post(
        url, headers=h, json=inbound(message_id="<b@x>", thread_refs=["<zzz@x>", "<a@x>"])
    ).json()
    # and later writes a fresh email without references
    fresh = client.post(url, headers=h, json=inbound(message_id="<c@x>", minutes_ago=1)).json()
    # then the answer joins the first conversation, the fresh email opens another one
    assert follow["conversation"]["id"] == first["conversation"]["id"]
    assert not follow["conversation_created"] and not follow["customer_created"]
    assert fresh["conversation_created"]
    assert fresh["conversation"]["customer_id"] == first["conversation"]["customer_id"]
    detail = client.get(f"/api/v1/conversations/{first['conversation']['id']}", headers=h).json()
    assert [m["channel_message_id"] for m in detail["messages"]] == ["<a@x>", "<b@x>"]


def test_a_customer_message_after_resolution_reopens_and_after_closing_starts_anew(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    url = "/api/v1/conversations/messages"
    # given a WhatsApp conversation that an agent resolved
    first = client.post(
        url, headers=h, json=inbound(channel="whatsapp", sender="31612345678", message_id="w1")
    ).json()
    conversation_id = first["conversation"]["id"]
    resolved = client.patch(
        f"/api/v1/conversations/{conversation_id}", headers=h, json={"status": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["conversation"]["resolved_at"] is not None
    # when the customer writes again on the same channel
    second = client.post(
        url,
        headers=h,
        json=inbound(channel="whatsapp", sender="31612345678", message_id="w2", minutes_ago=5),
    ).json()
    # then the same conversation is open again and counts one reopening
    assert second["conversation"]["id"] == conversation_id
    assert second["reopened"] is True
    assert second["conversation"]["status"] == "open"
    assert second["conversation"]["reopened_count"] == 1
    assert second["conversation"]["resolved_at"] is None
    # when it is closed and the customer writes once more, then a new conversation starts
    client.patch(f"/api/v1/conversations/{conversation_id}", headers=h, json={"status": "closed"})
    third = client.post(
        url,
        headers=h,
        json=inbound(channel="whatsapp", sender="31612345678", message_id="w3", minutes_ago=1),
    ).json()
    assert third["conversation_created"] and third["conversation"]["id"] != conversation_id


def test_reply_note_assignment_status_priority_tags_and_filters(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    h = tenant.headers
    email = client.post(
        "/api/v1/conversations/messages", headers=h, json=inbound(message_id="<r1@x>")
    ).json()["conversation"]
    chat = client.post(
        "/api/v1/conversations/messages",
        headers=h,
        json=inbound(channel="telegram", sender="anna_dv", message_id="t1"),
    ).json()["conversation"]
    cid = email["id"]
    # when an agent is assigned with a team, replies, adds a note and sets priority and tags
    assigned = client.post(
        f"/api/v1/conversations/{cid}/assign",
        headers=h,
        json={"assignee_id": agent_id, "team": "Delivery"},
    )
    assert assigned.status_code == 200, assigned.text
    reply = client.post(
        f"/api/v1/conversations/{cid}/replies",
        headers=h,
        json={"body": "We zoeken het voor u uit.", "author_user_id": agent_id},
    )
    assert reply.status_code == 201, reply.text
    note = client.post(
        f"/api/v1/conversations/{cid}/notes", headers=h, json={"body": "Carrier PostNL late"}
    )
    assert note.status_code == 201, note.text
    patched = client.patch(
        f"/api/v1/conversations/{cid}",
        headers=h,
        json={"status": "pending", "priority": "high", "tags": ["Delivery", "late", "late"]},
    )
    assert patched.status_code == 200, patched.text
    # then the reply is kept, outbound, and says why it did not go out (no SMTP here)
    sent = reply.json()
    assert sent["direction"] == "outbound" and sent["author_kind"] == "agent"
    assert sent["author_user_id"] == agent_id
    assert "OPENCX_SMTP_HOST" in sent["delivery_error"]
    assert note.json()["direction"] == "note"
    detail = client.get(f"/api/v1/conversations/{cid}", headers=h).json()
    assert detail["first_response_at"] is not None
    assert detail["priority"] == "high" and detail["tags"] == ["delivery", "late"]
    assert detail["assignee_id"] == agent_id and detail["team"] == "Delivery"
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound", "note"]

    # and the filters find it by assignee, team, status and channel, and the chat by channel
    def ids(**params: object) -> list[int]:
        page = client.get("/api/v1/conversations", headers=h, params=params).json()
        return [c["id"] for c in page["items"]]

    assert ids(assignee_id=agent_id) == [cid]
    assert ids(team="Delivery", status="pending", channel="email") == [cid]
    assert ids(channel="telegram") == [chat["id"]]
    assert ids(status="open") == [chat["id"]]
    assert set(ids()) == {cid, chat["id"]}
    # and a later change of team alone keeps the agent; null clears the team
    moved = client.post(f"/api/v1/conversations/{cid}/assign", headers=h, json={"team": None})
    assert (moved.json()["assignee_id"], moved.json()["team"]) == (agent_id, None)


def test_merging_moves_messages_and_closes_the_duplicate_with_a_link(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    url = "/api/v1/conversations/messages"
    keep = client.post(url, headers=h, json=inbound(message_id="<k@x>")).json()["conversation"]
    dup = client.post(url, headers=h, json=inbound(message_id="<d@x>", minutes_ago=2)).json()[
        "conversation"
    ]
    # when the duplicate is merged into the first
    merged = client.post(
        f"/api/v1/conversations/{keep['id']}/merge", headers=h, json={"merged_id": dup["id"]}
    )
    assert merged.status_code == 200, merged.text
    # then its message moved, it is closed and points at the survivor, and it left the list
    survivor = client.get(f"/api/v1/conversations/{keep['id']}", headers=h).json()
    inbound_ids = [
        m["channel_message_id"] for m in survivor["messages"] if m["direction"] == "inbound"
    ]
    assert inbound_ids == ["<k@x>", "<d@x>"]
    old = client.get(f"/api/v1/conversations/{dup['id']}", headers=h).json()
    assert old["status"] == "closed" and old["merged_into_id"] == keep["id"]
    assert [m["author_kind"] for m in old["messages"]] == ["system"]
    listed = client.get("/api/v1/conversations", headers=h).json()
    assert [c["id"] for c in listed["items"]] == [keep["id"]]
    # and a reply in the old thread lands in the survivor
    late = client.post(
        url, headers=h, json=inbound(message_id="<e@x>", thread_refs=["<d@x>"], minutes_ago=1)
    ).json()
    assert late["conversation"]["id"] == keep["id"]
    # and the merged one cannot be changed any more, nor merged into itself
    refused = client.patch(
        f"/api/v1/conversations/{dup['id']}", headers=h, json={"priority": "low"}
    )
    assert refused.status_code == 409
    itself = client.post(
        f"/api/v1/conversations/{keep['id']}/merge", headers=h, json={"merged_id": keep["id"]}
    )
    assert itself.status_code == 422
    assert itself.json()["detail"][0]["loc"][-1] == "merged_id"


def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    h = tenant.headers
    url = "/api/v1/conversations/messages"
    cases = [
        (inbound(channel="pigeon"), "channel"),
        (inbound(sender="not-an-email"), "value"),
        ({**inbound(), "received_at": "2026-11-22T09:00:00"}, "received_at"),
        (
            inbound(attachments=[{"filename": "a.txt", "content_base64": "!!"}]),
            "content_base64",
        ),
        (inbound(touchpoint_id=999999), None),
    ]
    for body, field in cases:
        response = client.post(url, headers=h, json=body)
        if field is None:
            assert response.status_code == 404, response.text
        else:
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"][-1] == field
    cid = client.post(url, headers=h, json=inbound(message_id="<ok@x>")).json()["conversation"][
        "id"
    ]
    empty = client.post(f"/api/v1/conversations/{cid}/replies", headers=h, json={"body": "  "})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][-1] == "body"
    bad_status = client.patch(f"/api/v1/conversations/{cid}", headers=h, json={"status": "done"})
    assert bad_status.status_code == 422
    assert bad_status.json()["detail"][0]["loc"][-1] == "status"
    # another organization's user cannot be assigned: 404, like an unknown one
    stranger = auth_service.list_users(db_session, org_id=other_tenant.org_id)[0].id
    assign = client.post(
        f"/api/v1/conversations/{cid}/assign", headers=h, json={"assignee_id": stranger}
    )
    assert assign.status_code == 404
    assert _count(db_session, Message) == 1
    detail = client.get(f"/api/v1/conversations/{cid}", headers=h).json()
    assert detail["assignee_id"] is None and detail["status"] == "open"


def test_attachments_are_files_with_metadata_and_gdpr_sees_and_erases_the_conversation(
    client: TestClient, db_session: Session, tenant: Tenant, settings_env: Path
) -> None:
    h = tenant.headers
    content = b"%PDF-1.4 invoice 1234"
    body = inbound(
        message_id="<att@x>",
        attachments=[
            {
                "filename": "../../factuur.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(content).decode(),
            }
        ],
    )
    result = client.post("/api/v1/conversations/messages", headers=h, json=body).json()
    (attachment,) = result["message"]["attachments"]
    digest = hashlib.sha256(content).hexdigest()
    # then the file lies under the data dir by its digest, its name stripped of any path
    assert attachment == {
        "id": attachment["id"],
        "filename": "factuur.pdf",
        "content_type": "application/pdf",
        "size": len(content),
        "sha256": digest,
    }
    stored = settings_env / "attachments" / str(tenant.org_id) / digest[:2] / digest
    assert stored.read_bytes() == content
    # and it downloads with its type and name
    download = client.get(
        f"/api/v1/conversations/{result['conversation']['id']}/attachments/{attachment['id']}",
        headers=h,
    )
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert 'filename="factuur.pdf"' in download.headers["content-disposition"]
    customer_id = result["conversation"]["customer_id"]
    client.post(
        f"/api/v1/conversations/{result['conversation']['id']}/replies",
        headers=h,
        json={"body": "Dank u, we kijken ernaar."},
    )
    # the timeline shows the conversation and both messages
    entries = client.get(f"/api/v1/customers/{customer_id}/timeline", headers=h).json()
    kinds = [(e["kind"], e["title"]) for e in entries]
    assert ("conversation", "Conversation on email: Waar is mijn bestelling?") in kinds
    assert ("message", "Customer wrote (email)") in kinds
    assert ("message", "Agent replied (email)") in kinds
    # the export holds the conversation, its messages and the attachment's metadata
    export = client.get(f"/api/v1/customers/{customer_id}/export", headers=h).json()
    assert [c["subject"] for c in export["conversations"]] == ["Waar is mijn bestelling?"]
    assert export["conversation_messages"][0]["body"].startswith("Mijn bestelling")
    assert export["conversation_messages"][0]["attachments"][0]["sha256"] == digest
    # when the customer is erased
    erased = client.post(f"/api/v1/customers/{customer_id}/erase", headers=h)
    assert erased.status_code == 200, erased.text
    # then subjects, bodies, addresses and files are gone; the rows stay for the measures
    after = client.get(f"/api/v1/customers/{customer_id}/export", headers=h).json()
    assert [c["subject"] for c in after["conversations"]] == [""]
    assert [
        (m["body"], m["address"], m["attachments"]) for m in after["conversation_messages"]
    ] == [
        ("", None, []),
        ("", None, []),
    ]
    assert not stored.exists()
