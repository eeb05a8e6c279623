"""Web chat through its real WebSocket: visitor tokens, idempotent messages, live replies, presence."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.channels import webchat
from opencx.conversations.models import Conversation, Message, MessageDirection
from opencx.customers import service as customers
from opencx.customers.models import IdentityKind
from opencx.customers.schemas import CustomerIn
from tests.conftest import PASSWORD, Tenant, login


def _hello(socket: WebSocketTestSession, token: str | None = None) -> dict[str, Any]:
    socket.send_json({"type": "hello", "token": token})
    welcome = socket.receive_json()
    assert welcome["type"] == "welcome", welcome
    return welcome


def _say(socket: WebSocketTestSession, message_id: str, body: str) -> dict[str, Any]:
    socket.send_json({"type": "message", "id": message_id, "body": body})
    return socket.receive_json()


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_visitor_message_is_stored_once_and_a_reload_continues_the_chat(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a new visitor on the organization's site
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        welcome = _hello(socket)
        assert welcome["resumed"] is False and welcome["messages"] == []
        # when they write
        ack = _say(socket, "msg-0001-abcd", "Hello, where is my order?")
    # then the message is stored as an inbound chat message of a new customer
    assert ack["type"] == "ack" and ack["duplicate"] is False
    assert ack["message"]["client_id"] == "msg-0001-abcd"
    assert _count(db_session, Message) == 1
    conversation = db_session.scalars(select(Conversation)).one()
    assert conversation.channel.value == "chat"
    # when the page reloads with the kept token and the widget resends the message
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        again = _hello(socket, welcome["token"])
        resent = _say(socket, "msg-0001-abcd", "Hello, where is my order?")
        more = _say(socket, "msg-0002-abcd", "It is order WEB-1001.")
    # then the chat continues with its history and the resend is a duplicate, stored once
    assert again["resumed"] is True
    assert [m["body"] for m in again["messages"]] == ["Hello, where is my order?"]
    assert resent["duplicate"] is True and resent["message"]["id"] == ack["message"]["id"]
    assert more["duplicate"] is False
    assert _count(db_session, Message) == 2
    assert _count(db_session, Conversation) == 1


def test_a_forged_or_foreign_token_starts_a_new_visitor_without_history(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a visitor of acme who wrote a message
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        token = _hello(socket)["token"]
        _say(socket, "secret-question-1", "My address is Main Street 1")
    version, visitor_id, signature = token.split(".")
    forged = f"{version}.{visitor_id}.{'0' * len(signature)}"
    # when someone presents the token with a wrong signature, or at another organization
    for slug, presented in ((tenant.slug, forged), (other_tenant.slug, token)):
        with client.websocket_connect(f"/chat/ws/{slug}") as socket:
            welcome = _hello(socket, presented)
        # then they are a new visitor and see nothing of the first one's chat
        assert welcome["resumed"] is False
        assert welcome["messages"] == []
        assert welcome["visitor_id"] != visitor_id


def test_visitor_tokens_are_bound_to_the_organization(settings_env: object) -> None:
    token = webchat.visitor_token(1, "abc123")
    assert webchat.read_visitor_token(1, token) == "abc123"
    assert webchat.read_visitor_token(2, token) is None
    assert webchat.read_visitor_token(1, token.replace("abc123", "abc124")) is None
    assert webchat.read_visitor_token(1, "not-a-token") is None


def test_too_long_blank_and_too_many_messages_are_refused_and_not_stored(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        _hello(socket)
        # when a message is longer than the limit, or blank
        long = _say(socket, "long-message-1", "x" * (webchat.MAX_BODY_CHARS + 1))
        blank = _say(socket, "blank-message-1", "   ")
        # then each is refused naming the field, and nothing is stored
        assert long["type"] == "error" and long["field"] == "body", long
        assert "4000" in long["reason"]
        assert blank["type"] == "error" and blank["field"] == "body"
        assert _count(db_session, Message) == 0
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        _hello(socket)
        # when a visitor sends faster than the rate limit allows (every attempt counts)
        answers = [
            _say(socket, f"burst-message-{n:03d}", f"message {n}")
            for n in range(webchat.MESSAGES_PER_MINUTE + 1)
        ]
    # then the messages beyond it are refused with the reason and only the allowed are stored
    assert [a["type"] for a in answers[:-1]] == ["ack"] * webchat.MESSAGES_PER_MINUTE
    assert answers[-1]["type"] == "error" and "a minute" in answers[-1]["reason"]
    assert _count(db_session, Message) == webchat.MESSAGES_PER_MINUTE


def test_a_frame_beyond_the_size_limit_closes_the_socket(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        _hello(socket)
        socket.send_json({"type": "message", "id": "huge-frame-1", "body": "x" * 70_000})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1009
    assert _count(db_session, Message) == 0


def test_an_unknown_organization_closes_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/chat/ws/no-such-org") as socket:
        socket.send_json({"type": "hello", "token": None})
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1008


def test_an_agent_reply_reaches_the_visitor_live(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        _hello(socket)
        assert _say(socket, "question-0001", "Is the desk lamp in stock?")["type"] == "ack"
        db_session.expire_all()
        conversation_id = db_session.scalars(select(Conversation.id)).one()
        # when an agent replies (through the API here; the inbox page calls the same service)
        reply = client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            headers=tenant.headers,
            json={"body": "Yes, we have 12 in stock."},
        )
        assert reply.status_code == 201, reply.text
        assert reply.json()["delivery_error"] is None
        # then the visitor's widget receives it without asking
        pushed = socket.receive_json()
    assert pushed["type"] == "message"
    assert pushed["message"]["direction"] == "outbound"
    assert pushed["message"]["body"] == "Yes, we have 12 in stock."


def note_customer(session: Session, note: Message) -> int:
    conversation = session.get(Conversation, note.conversation_id)
    assert conversation is not None
    return conversation.customer_id


def _agent_client(client: TestClient, db_session: Session, tenant: Tenant) -> None:
    auth_service.create_user(
        db_session,
        org_id=tenant.org_id,
        email="sam@acme.example",
        name="Sam Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    login(client, "sam@acme.example")


def test_presence_follows_agents_with_the_inbox_open(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given no agent has the inbox open
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as visitor:
        assert _hello(visitor)["agents_online"] is False
        # when an agent opens the inbox (its live socket)
        _agent_client(client, db_session, tenant)
        with client.websocket_connect("/inbox/live"):
            # then the visitor is told an agent is online
            assert visitor.receive_json() == {"type": "presence", "agents_online": True}
        # and offline again when the agent leaves
        assert visitor.receive_json() == {"type": "presence", "agents_online": False}


def test_the_inbox_socket_refuses_visitors_and_other_sites(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # a signed-out browser is refused
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/inbox/live"):
        pass
    assert refused.value.code == 1008
    # a page of another site, riding on the agent's cookie, is refused
    _agent_client(client, db_session, tenant)
    with (
        pytest.raises(WebSocketDisconnect) as foreign,
        client.websocket_connect("/inbox/live", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert foreign.value.code == 1008


def test_an_email_left_becomes_an_identity_of_the_visitor(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        welcome = _hello(socket)
        _say(socket, "offline-question-1", "Can someone call me back?")
        socket.send_json({"type": "email", "email": "not an address"})
        bad = socket.receive_json()
        socket.send_json({"type": "email", "email": "Visitor@Example.com"})
        saved = socket.receive_json()
    assert bad["type"] == "error" and bad["field"] == "email"
    assert saved == {"type": "email_saved", "email": "visitor@example.com"}
    customer_id = customers.find_customer_id(
        db_session,
        org_id=tenant.org_id,
        kind=IdentityKind.external,
        value=welcome["visitor_id"],
        namespace=webchat.IDENTITY_NAMESPACE,
    )
    assert customer_id is not None
    values = {
        i.value
        for i in customers.list_identities(
            db_session, org_id=tenant.org_id, customer_id=customer_id
        )
    }
    assert "visitor@example.com" in values


def test_an_email_of_another_customer_is_not_merged_but_noted(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a known customer with that address
    known, _ = customers.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=CustomerIn(identities=[{"kind": "email", "value": "anna@example.nl"}]),
        source="test",
    )
    db_session.commit()
    # when an anonymous visitor claims it
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        token = _hello(socket)["token"]
        _say(socket, "claim-question-1", "Show me my orders")
        socket.send_json({"type": "email", "email": "anna@example.nl"})
        assert socket.receive_json()["type"] == "email_saved"
        # then the visitor stays a separate customer and the agent gets a note
        db_session.expire_all()
        note = db_session.scalars(
            select(Message).where(Message.direction == MessageDirection.note)
        ).one()
        assert f"customer #{known.id}" in note.body
        visitor_customer = customers.get_customer(
            db_session, org_id=tenant.org_id, customer_id=note_customer(db_session, note)
        )
        assert visitor_customer.id != known.id
        assert visitor_customer.attributes[webchat.UNVERIFIED_EMAIL] == "anna@example.nl"
    # and a reload shows the visitor only their own messages, never the note
    with client.websocket_connect(f"/chat/ws/{tenant.slug}") as socket:
        history = _hello(socket, token)["messages"]
    assert [m["body"] for m in history] == ["Show me my orders"]
