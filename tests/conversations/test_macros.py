"""Macros: canned replies in en/nl/pl, rendered in the customer's language with placeholders."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.conversations.conftest import inbound

TEXTS = {
    "en": "Hello {customer.first_name}, about conversation {conversation.id}: {agent.name}",
    "nl": "Hallo {customer.first_name}, over gesprek {conversation.id}: {agent.name}",
    "pl": "Dzień dobry {customer.first_name}, rozmowa {conversation.id}: {agent.name}",
}


def test_a_macro_renders_in_the_customers_language_with_its_placeholders(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    h = tenant.headers
    created = client.post("/api/v1/macros", headers=h, json={"name": "Where is it", "texts": TEXTS})
    assert created.status_code == 201, created.text
    macro_id = created.json()["id"]
    # given a Dutch customer's conversation (language detected from her first message)
    dutch = client.post(
        "/api/v1/conversations/messages", headers=h, json=inbound(message_id="<nl@x>")
    ).json()["conversation"]
    # and an English-only message from someone writing in English
    english = client.post(
        "/api/v1/conversations/messages",
        headers=h,
        json=inbound(
            message_id="<en@x>",
            sender="john@example.com",
            body="My parcel has not arrived yet, where is my order please?",
        ),
    ).json()["conversation"]
    # when the macro is rendered for each
    nl = client.post(
        f"/api/v1/macros/{macro_id}/render",
        headers=h,
        json={"conversation_id": dutch["id"], "agent_id": agent_id},
    )
    en = client.post(
        f"/api/v1/macros/{macro_id}/render", headers=h, json={"conversation_id": english["id"]}
    )
    # then each reads in the customer's language with the names filled in
    assert nl.status_code == 200, nl.text
    assert nl.json()["language"] == "nl"
    assert nl.json()["text"] == f"Hallo Anna, over gesprek {dutch['id']}: Sam Agent"
    assert en.json()["language"] == "en"
    assert en.json()["text"] == f"Hello Anna, about conversation {english['id']}: "


def test_macros_crud_and_a_missing_translation_falls_back_to_english(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    macro = client.post(
        "/api/v1/macros", headers=h, json={"name": "Thanks", "texts": {"en": "Thank you!"}}
    ).json()
    dutch = client.post(
        "/api/v1/conversations/messages", headers=h, json=inbound(message_id="<t@x>")
    ).json()["conversation"]
    rendered = client.post(
        f"/api/v1/macros/{macro['id']}/render", headers=h, json={"conversation_id": dutch["id"]}
    ).json()
    assert (rendered["language"], rendered["text"]) == ("en", "Thank you!")
    updated = client.put(
        f"/api/v1/macros/{macro['id']}",
        headers=h,
        json={"name": "Thanks", "texts": {"en": "Thank you!", "nl": "Dank u wel!"}},
    )
    assert updated.status_code == 200, updated.text
    rendered = client.post(
        f"/api/v1/macros/{macro['id']}/render", headers=h, json={"conversation_id": dutch["id"]}
    ).json()
    assert (rendered["language"], rendered["text"]) == ("nl", "Dank u wel!")
    assert [m["name"] for m in client.get("/api/v1/macros", headers=h).json()] == ["Thanks"]
    assert client.delete(f"/api/v1/macros/{macro['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/macros/{macro['id']}", headers=h).status_code == 404


def test_bad_macros_are_422_naming_the_field(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    client.post("/api/v1/macros", headers=h, json={"name": "Taken", "texts": {"en": "x"}})
    cases = [
        ({"name": "A", "texts": {"en": "Hi {customer.password}"}}, "texts", "customer.password"),
        ({"name": "A", "texts": {"nl": "Hallo"}}, "texts", "English"),
        ({"name": "A", "texts": {"en": "x", "de": "y"}}, "texts", "de"),
        ({"name": "Taken", "texts": {"en": "y"}}, "name", "has this name"),
    ]
    for body, field, reason in cases:
        response = client.post("/api/v1/macros", headers=h, json=body)
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"][-1] == field and reason in error["msg"], error
    assert [m["name"] for m in client.get("/api/v1/macros", headers=h).json()] == ["Taken"]
