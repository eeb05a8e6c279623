"""Chat invitations: the link with a ready message, in the customer's language, for the chat."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Tenant
from tests.surveys.conftest import World, make_customer


def test_a_chat_invitation_answers_with_a_message_to_post_in_the_chat(
    client: TestClient, db_session: Session, world: World, tenant: Tenant
) -> None:
    # given Kasia (Polish), who agreed to surveys in the chat, and Jane (no language, any channel)
    kasia = make_customer(db_session, world.org_id, "Kasia", "pl", channel="chat")
    db_session.commit()
    url = f"/api/v1/surveys/{world.nps_survey_id}/invitations"
    # when each is invited on channel chat
    polish = client.post(
        url, headers=tenant.headers, json={"customer_id": kasia, "channel": "chat"}
    )
    english = client.post(
        url, headers=tenant.headers, json={"customer_id": world.jane_id, "channel": "chat"}
    )
    # then the answer has the text to post, in their language, ending with their own link
    assert polish.status_code == 201, polish.text
    invitation = polish.json()
    assert invitation["chat_message"].startswith("Jak nam poszło?")
    assert invitation["chat_message"].endswith(f"/s/{invitation['token']}")
    assert english.json()["chat_message"].startswith("How did we do?")
    # and the link in it opens the survey in Polish
    path = "/s/" + invitation["chat_message"].rsplit("/s/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "Jak bardzo prawdopodobne" in page.text
    # and an email invitation has no chat message
    email = client.post(
        url, headers=tenant.headers, json={"customer_id": world.anna_id, "channel": "email"}
    )
    assert email.json()["chat_message"] is None
