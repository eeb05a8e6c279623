"""The agent inbox pages through the real app: queues, the conversation, actions, roles, tenancy."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.conversations.models import Conversation, Message, MessageDirection
from tests.conftest import PASSWORD, Tenant, login
from tests.conversations.conftest import inbound


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _conversation(client: TestClient, tenant: Tenant, **fields: object) -> int:
    response = client.post(
        "/api/v1/conversations/messages", headers=tenant.headers, json=inbound(**fields)
    )
    assert response.status_code == 201, response.text
    return int(response.json()["conversation"]["id"])


def _agent(db_session: Session, tenant: Tenant, email: str, role: Role = Role.agent) -> int:
    user = auth_service.create_user(
        db_session,
        org_id=tenant.org_id,
        email=email,
        name="Sam Agent",
        role=role,
        password=PASSWORD,
    )
    db_session.commit()
    return user.id


def test_the_inbox_lists_open_conversations_with_customer_and_waiting_time(
    client: TestClient, tenant: Tenant
) -> None:
    # given two customers wrote
    first = _conversation(client, tenant, message_id="<a@x>", minutes_ago=90)
    _conversation(client, tenant, message_id="<b@x>", sender="bram@example.be", body="Where is it?")
    login(client, tenant.admin_email)
    # when the agent opens the inbox
    page = client.get("/inbox")
    # then both are in "All open", newest first, each waiting
    assert page.status_code == 200
    rows = re.findall(r'<a href="/inbox/(\d+)\?view=open" class="conversation-row"', page.text)
    assert rows[-1] == str(first) and len(rows) == 2
    assert "waiting 1 h" in page.text
    assert "Waar is mijn bestelling?" in page.text


def test_reply_note_assign_and_resolve_from_the_conversation_page(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    conversation_id = _conversation(client, tenant, message_id="<c@x>")
    login(client, tenant.admin_email)
    page = client.get(f"/inbox/{conversation_id}")
    assert page.status_code == 200
    # the customer 360 panel sits beside the conversation
    assert "anna@example.com" in page.text and "Earlier conversations" in page.text
    token = _csrf(page.text)
    # when the agent replies, adds a note, assigns it to themselves and resolves it
    for path, data in (
        ("messages", {"body": "We are looking into it.", "kind": "reply"}),
        ("messages", {"body": "Checked with the carrier.", "kind": "note"}),
        ("assign", {}),
        ("status", {"status": "resolved"}),
    ):
        response = client.post(
            f"/inbox/{conversation_id}/{path}",
            data={**data, "csrf_token": token, "view": "mine"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/inbox/{conversation_id}?view=mine"
    # then all of it is stored
    db_session.expire_all()
    conversation = db_session.get(Conversation, conversation_id)
    assert conversation is not None
    assert conversation.status.value == "resolved" and conversation.assignee_id is not None
    directions = [m.direction for m in db_session.scalars(select(Message).order_by(Message.id))]
    assert directions == [
        MessageDirection.inbound,
        MessageDirection.outbound,
        MessageDirection.note,
    ]
    # and the page shows the note marked internal
    shown = client.get(f"/inbox/{conversation_id}").text
    assert "internal note" in shown and "Checked with the carrier." in shown


def test_forms_without_csrf_token_or_with_a_blank_body_change_nothing(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    conversation_id = _conversation(client, tenant, message_id="<d@x>")
    login(client, tenant.admin_email)
    token = _csrf(client.get(f"/inbox/{conversation_id}").text)
    forged = client.post(f"/inbox/{conversation_id}/messages", data={"body": "hi"})
    blank = client.post(
        f"/inbox/{conversation_id}/messages", data={"body": "  ", "csrf_token": token}
    )
    assert forged.status_code == 403
    assert blank.status_code == 422 and "body" in blank.text
    db_session.expire_all()
    assert len(list(db_session.scalars(select(Message)))) == 1


def test_queues_mine_and_unassigned_follow_assignment(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    conversation_id = _conversation(client, tenant, message_id="<e@x>")
    _agent(db_session, tenant, "sam@acme.example")
    login(client, "sam@acme.example")
    assert f"/inbox/{conversation_id}?view=unassigned" in client.get("/inbox?view=unassigned").text
    assert "No conversations in this queue." in client.get("/inbox?view=mine").text
    token = _csrf(client.get(f"/inbox/{conversation_id}").text)
    client.post(f"/inbox/{conversation_id}/assign", data={"csrf_token": token})
    assert f"/inbox/{conversation_id}?view=mine" in client.get("/inbox?view=mine").text
    assert "No conversations in this queue." in client.get("/inbox?view=unassigned").text
    assert f"/inbox/{conversation_id}?view=team" in client.get("/inbox?view=team").text


def test_a_macro_is_rendered_in_the_customers_language(client: TestClient, tenant: Tenant) -> None:
    conversation_id = _conversation(client, tenant, message_id="<f@x>")  # Dutch: language nl
    macro = client.post(
        "/api/v1/macros",
        headers=tenant.headers,
        json={
            "name": "Late delivery",
            "texts": {
                "en": "Hi {customer.first_name}, sorry!",
                "nl": "Hoi {customer.first_name}, sorry!",
            },
        },
    ).json()
    login(client, tenant.admin_email)
    assert "Late delivery" in client.get(f"/inbox/{conversation_id}").text
    text = client.get(f"/inbox/{conversation_id}/macros/{macro['id']}")
    assert text.status_code == 200 and text.text == "Hoi Anna, sorry!"


def test_analysts_may_not_work_the_inbox_and_other_orgs_conversations_are_not_found(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = _conversation(client, other_tenant, message_id="<g@x>")
    login(client, tenant.admin_email)
    assert client.get(f"/inbox/{foreign}").status_code == 404
    token = _csrf(client.get("/inbox").text)
    refused = client.post(f"/inbox/{foreign}/messages", data={"body": "hi", "csrf_token": token})
    assert refused.status_code == 404
    _agent(db_session, tenant, "ana@acme.example", Role.analyst)
    client.cookies.clear()
    login(client, "ana@acme.example")
    assert client.get("/inbox").status_code == 403
