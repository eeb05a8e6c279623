"""Routing: team queues, language first, skills, capacity per channel, presence, modes, rules."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.conversations import service as conversations
from opencx.conversations.models import Conversation
from opencx.conversations.routing import service as routing
from opencx.conversations.routing.models import Presence, RoutingAgent
from opencx.conversations.routing.schemas import AgentRoutingIn, TeamIn
from opencx.conversations.schemas import InboundMessageIn
from opencx.db import session_scope, utcnow
from tests.conftest import PASSWORD, Tenant, login
from tests.conversations.conftest import inbound

POLISH = "Dzień dobry, moja paczka jeszcze nie dotarła. Kiedy dostanę zamówienie?"
ENGLISH = "Hello, my parcel has not arrived yet. When will my order be delivered?"
DUTCH = "Goedemiddag, mijn pakket is nog steeds niet geleverd. Wanneer komt mijn bestelling?"
API = "/api/v1/routing"


def _user(session: Session, tenant: Tenant, name: str, role: Role = Role.agent) -> int:
    email = f"{name.lower().replace(' ', '.')}@{tenant.slug}.example"
    user = auth_service.create_user(
        session, org_id=tenant.org_id, email=email, name=name, role=role, password=PASSWORD
    )
    session.commit()
    return user.id


def _team(client: TestClient, tenant: Tenant, name: str, **fields: Any) -> int:
    response = client.post(
        f"{API}/teams", headers=tenant.headers, json={"name": name, "is_default": True, **fields}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _agent(
    client: TestClient,
    tenant: Tenant,
    user_id: int,
    *,
    languages: list[str],
    teams: list[str],
    online: bool = True,
    **fields: Any,
) -> None:
    body = {"languages": languages, "teams": teams, **fields}
    response = client.put(f"{API}/agents/{user_id}", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    if online:
        _presence(client, tenant, user_id, "online")


def _presence(client: TestClient, tenant: Tenant, user_id: int, presence: str) -> dict[str, Any]:
    response = client.put(
        f"{API}/agents/{user_id}/presence", headers=tenant.headers, json={"presence": presence}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _write(
    client: TestClient, tenant: Tenant, sender: str, body: str, channel: str = "chat", **extra: Any
) -> dict[str, Any]:
    message = inbound(channel=channel, sender=sender, body=body, **extra)
    response = client.post("/api/v1/conversations/messages", headers=tenant.headers, json=message)
    assert response.status_code == 201, response.text
    return dict(response.json()["conversation"])


def _resolve(client: TestClient, tenant: Tenant, conversation_id: int) -> None:
    response = client.patch(
        f"/api/v1/conversations/{conversation_id}",
        headers=tenant.headers,
        json={"status": "resolved"},
    )
    assert response.status_code == 200, response.text


def _assignee(client: TestClient, tenant: Tenant, conversation_id: int) -> int | None:
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)
    return detail.json()["assignee_id"]


def test_a_polish_message_goes_to_the_polish_speaker_and_an_english_one_to_the_english(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given one team with an English and a Polish speaker, both online
    _team(client, tenant, "service")
    priya = _user(db_session, tenant, "Priya Shah")
    tomasz = _user(db_session, tenant, "Tomasz Wrobel")
    _agent(client, tenant, priya, languages=["en"], teams=["service"])
    _agent(client, tenant, tomasz, languages=["pl", "en"], teams=["service"])
    # when a Polish and then an English message arrive on the chat
    polish = _write(client, tenant, "visitor-pl", POLISH)
    english = _write(client, tenant, "visitor-en", ENGLISH)
    # then the Polish one went to the Polish speaker, in the team's queue
    assert polish["assignee_id"] == tomasz
    assert polish["team"] == "service"
    # and the English one to the agent assigned longest ago who speaks English (round robin)
    assert english["assignee_id"] == priya


def test_capacity_per_channel_is_respected_and_a_resolution_lets_the_next_one_in(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given one agent who takes two chats and one email at once
    _team(client, tenant, "service")
    sam = _user(db_session, tenant, "Sam Agent")
    _agent(
        client, tenant, sam, languages=["nl"], teams=["service"], capacity={"chat": 2, "email": 1}
    )
    # when three chats and one email arrive
    chats = [_write(client, tenant, f"visitor-{n}", DUTCH) for n in range(3)]
    email = _write(client, tenant, "anna@example.com", DUTCH, channel="email")
    # then the first two chats and the email are theirs; the third chat waits in the queue
    assert [c["assignee_id"] for c in chats] == [sam, sam, None]
    assert email["assignee_id"] == sam
    teams = client.get(f"{API}/teams", headers=tenant.headers).json()
    assert teams[0]["waiting"] == 1
    agents = client.get(f"{API}/agents", headers=tenant.headers).json()
    assert next(a for a in agents if a["user_id"] == sam)["load"] == {"chat": 2, "email": 1}
    # when the agent resolves one chat
    _resolve(client, tenant, chats[0]["id"])
    # then the waiting chat is assigned to them at once
    assert _assignee(client, tenant, chats[2]["id"]) == sam


def test_round_robin_rotates_through_the_team(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given three Dutch speakers in a round-robin team
    _team(client, tenant, "service-nl", mode="round_robin")
    agents = [_user(db_session, tenant, f"Agent {n}") for n in range(3)]
    for user_id in agents:
        _agent(client, tenant, user_id, languages=["nl"], teams=["service-nl"])
    # when four conversations arrive
    assigned = [_write(client, tenant, f"v{n}", DUTCH)["assignee_id"] for n in range(4)]
    # then each agent gets one in turn, and the fourth goes to the first again
    assert assigned == [*agents, agents[0]]


def test_least_loaded_picks_the_agent_with_the_fewest_open_conversations(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a least-loaded team whose agents are away while conversations come in
    _team(client, tenant, "service", mode="least_loaded")
    busy = _user(db_session, tenant, "Busy Agent")
    quiet = _user(db_session, tenant, "Quiet Agent")
    for user_id in (busy, quiet):
        _agent(client, tenant, user_id, languages=["nl"], teams=["service"], online=False)
    waiting = [_write(client, tenant, f"v{n}", DUTCH)["id"] for n in range(4)]
    # and a lead hands three to the first agent and one to the second
    for conversation_id, user_id in zip(waiting, [busy, busy, busy, quiet], strict=True):
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/assign",
            headers=tenant.headers,
            json={"assignee_id": user_id},
        )
        assert response.status_code == 200, response.text
    # when both come online and a new conversation arrives
    _presence(client, tenant, busy, "online")
    _presence(client, tenant, quiet, "online")
    new = _write(client, tenant, "v-new", DUTCH)
    # then it goes to the less loaded one (round robin would have picked the first: both
    # have never been routed anything and the first has the lower id)
    assert busy < quiet
    assert new["assignee_id"] == quiet


def test_offline_and_away_agents_are_skipped_and_a_closed_inbox_turns_away(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given three agents: offline, away and online
    _team(client, tenant, "service")
    gone = _user(db_session, tenant, "Gone Agent")
    resting = _user(db_session, tenant, "Resting Agent")
    here = _user(db_session, tenant, "Here Agent")
    _agent(client, tenant, gone, languages=["nl"], teams=["service"], online=False)
    _agent(client, tenant, resting, languages=["nl"], teams=["service"])
    _presence(client, tenant, resting, "away")
    _agent(client, tenant, here, languages=["nl"], teams=["service"])
    # when a conversation arrives, it goes to the online agent
    assert _write(client, tenant, "v1", DUTCH)["assignee_id"] == here
    # given the online agent's inbox closed longer ago than AWAY_AFTER
    routing.record_inbox_closed(
        db_session,
        org_id=tenant.org_id,
        user_id=here,
        now=utcnow() - routing.AWAY_AFTER - timedelta(seconds=5),
    )
    db_session.commit()
    # when the next conversation arrives
    second = _write(client, tenant, "v2", DUTCH)
    # then nobody takes it, and the agent is stored as away
    assert second["assignee_id"] is None
    db_session.expire_all()
    agent = db_session.scalar(select(RoutingAgent).where(RoutingAgent.user_id == here))
    assert agent is not None and agent.presence is Presence.away


def test_a_waiting_conversation_is_assigned_when_an_agent_comes_online(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a team whose only agent is offline
    _team(client, tenant, "service-pl")
    kasia = _user(db_session, tenant, "Kasia Agent")
    _agent(client, tenant, kasia, languages=["pl"], teams=["service-pl"], online=False)
    # when a Polish message arrives, it waits unassigned in the team's queue
    waiting = _write(client, tenant, "v-pl", POLISH)
    assert waiting["assignee_id"] is None and waiting["team"] == "service-pl"
    desk = routing.get_desk_status(db_session, org_id=tenant.org_id, user_id=kasia)
    assert [(q.team, [w.conversation_id for w in q.waiting]) for q in desk.queues] == [
        ("service-pl", [waiting["id"]])
    ]
    assert desk.queues[0].waiting[0].language == "pl"
    # when the agent comes online
    _presence(client, tenant, kasia, "online")
    # then it is theirs
    assert _assignee(client, tenant, waiting["id"]) == kasia


def test_a_reopened_conversation_moves_on_when_its_agent_is_not_online(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a conversation handled and resolved by one agent, who then goes offline
    _team(client, tenant, "service")
    first = _user(db_session, tenant, "First Agent")
    second = _user(db_session, tenant, "Second Agent")
    _agent(client, tenant, first, languages=["nl"], teams=["service"])
    conversation = _write(client, tenant, "v1", DUTCH, message_id="m1")
    assert conversation["assignee_id"] == first
    _resolve(client, tenant, conversation["id"])
    _presence(client, tenant, first, "offline")
    _agent(client, tenant, second, languages=["nl"], teams=["service"])
    # when the customer writes again
    reopened = _write(client, tenant, "v1", DUTCH + " Nog iets.", message_id="m2")
    # then the conversation reopens with the agent who is online
    assert reopened["id"] == conversation["id"] and reopened["status"] == "open"
    assert reopened["assignee_id"] == second


def test_rules_are_tried_in_order_and_the_default_team_takes_the_rest(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given three teams, each with an online agent, and two rules: email first, then Polish
    teams = {
        "general": _team(client, tenant, "general"),
        "email": _team(client, tenant, "email", is_default=False),
        "polish": _team(client, tenant, "polish", is_default=False),
    }
    for name in teams:
        user_id = _user(db_session, tenant, f"{name} agent")
        _agent(client, tenant, user_id, languages=["pl", "en", "nl"], teams=[name])
    rules = [{"channel": "email", "team_id": teams["email"]}]
    rules.append({"language": "pl", "team_id": teams["polish"]})
    response = client.put(f"{API}/rules", headers=tenant.headers, json={"rules": rules})
    assert response.status_code == 200, response.text
    # when a Polish email, a Polish chat and an English chat arrive
    polish_email = _write(client, tenant, "pl@example.com", POLISH, channel="email")
    polish_chat = _write(client, tenant, "v-pl", POLISH)
    english_chat = _write(client, tenant, "v-en", ENGLISH)
    # then the first matching rule decides, and what no rule matches goes to the default team
    assert polish_email["team"] == "email"
    assert polish_chat["team"] == "polish"
    assert english_chat["team"] == "general"
    # when the Polish rule moves first, a new Polish email goes to the Polish team
    polish_rule = response.json()[1]["id"]
    routing.move_rule(db_session, org_id=tenant.org_id, rule_id=polish_rule, step=-1)
    db_session.commit()
    assert _write(client, tenant, "pl2@example.com", POLISH, channel="email")["team"] == "polish"


def test_skills_matching_the_tags_are_preferred(db_session: Session, tenant: Tenant) -> None:
    # given two online agents, one skilled in returns
    with session_scope() as session:
        team = routing.create_team(
            session, org_id=tenant.org_id, data=TeamIn(name="service", is_default=True)
        )
    skilled = _user(db_session, tenant, "Skilled Agent")
    plain = _user(db_session, tenant, "Plain Agent")
    with session_scope() as session:
        for user_id, skills in ((plain, []), (skilled, ["returns"])):
            data = AgentRoutingIn(languages=["nl"], skills=skills, teams=[team.name])
            routing.update_agent(session, org_id=tenant.org_id, user_id=user_id, data=data)
            routing.set_presence(
                session, org_id=tenant.org_id, user_id=user_id, presence=Presence.online
            )
    # and a first conversation without tags, which went to the skilled agent (lower id, turn)
    with session_scope() as session:
        result = conversations.record_inbound_message(
            session, org_id=tenant.org_id, data=InboundMessageIn.model_validate(inbound())
        )
        assert result.conversation.assignee_id == skilled
        # when it turns out to be about a return and is routed again
        conversation = session.get(Conversation, result.conversation.id)
        assert conversation is not None
        conversation.tags = ["returns"]
        conversation.assignee_id = None
        routing.route_conversation(
            session, org_id=tenant.org_id, conversation=conversation, text=DUTCH
        )
        # then the skilled agent takes it again, though round robin alone would pick the other
        assert conversation.assignee_id == skilled


def test_two_conversations_arriving_at_once_never_exceed_an_agents_capacity(
    db_session: Session, tenant: Tenant
) -> None:
    # given one online agent who takes two chats at once
    with session_scope() as session:
        routing.create_team(
            session, org_id=tenant.org_id, data=TeamIn(name="service", is_default=True)
        )
    sam = _user(db_session, tenant, "Sam Agent")
    with session_scope() as session:
        data = AgentRoutingIn(languages=["nl"], capacity={"chat": 2}, teams=["service"])
        routing.update_agent(session, org_id=tenant.org_id, user_id=sam, data=data)
        routing.set_presence(session, org_id=tenant.org_id, user_id=sam, presence=Presence.online)
    # when six chats from six visitors arrive at the same moment, each in its own transaction
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def arrive(n: int) -> None:
        try:
            start.wait()
            with session_scope() as session:
                message = inbound(channel="chat", sender=f"visitor-{n}", body=DUTCH)
                conversations.record_inbound_message(
                    session, org_id=tenant.org_id, data=InboundMessageIn.model_validate(message)
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=arrive, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then all six are stored, exactly two are the agent's and four wait in the queue
    assert errors == []
    db_session.expire_all()
    assignees = db_session.scalars(
        select(Conversation.assignee_id).where(Conversation.org_id == tenant.org_id)
    ).all()
    assert len(assignees) == 6
    assert sorted(assignees, key=lambda a: a or 0) == [None, None, None, None, sam, sam]


def test_another_organizations_agents_teams_and_rules_stay_apart(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a team and an agent in each organization
    mine = _team(client, tenant, "service")
    theirs = _team(client, other_tenant, "service")
    their_agent = _user(db_session, other_tenant, "Their Agent")
    _agent(client, other_tenant, their_agent, languages=["nl"], teams=["service"])
    # when the first organization lists agents and teams
    agents = client.get(f"{API}/agents", headers=tenant.headers).json()
    teams = client.get(f"{API}/teams", headers=tenant.headers).json()
    # then it sees only its own
    assert their_agent not in [a["user_id"] for a in agents]
    assert [t["id"] for t in teams] == [mine]
    # and cannot configure the other's agent, team or presence, nor route to its team
    h = tenant.headers
    body = {"languages": ["nl"], "teams": []}
    assert client.put(f"{API}/agents/{their_agent}", headers=h, json=body).status_code == 404
    presence = {"presence": "offline"}
    assert (
        client.put(f"{API}/agents/{their_agent}/presence", headers=h, json=presence).status_code
        == 404
    )
    team = {"name": "taken"}
    assert client.put(f"{API}/teams/{theirs}", headers=h, json=team).status_code == 404
    rules = {"rules": [{"channel": "chat", "team_id": theirs}]}
    refused = client.put(f"{API}/rules", headers=h, json=rules)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "rules", "0", "team_id"]
    # and a message to the first organization never goes to the other's online agent
    assert _write(client, tenant, "v1", DUTCH)["assignee_id"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agents/{user}", {"languages": ["polish"]}, "languages"),
        ("/agents/{user}", {"languages": ["pl"], "capacity": {"chat": -1}}, "capacity"),
        ("/agents/{user}", {"languages": ["pl"], "capacity": {"fax": 2}}, "capacity"),
        ("/agents/{user}", {"languages": ["pl"], "teams": ["nobody"]}, "teams"),
        ("/agents/{user}/presence", {"presence": "busy"}, "presence"),
        ("/teams/{team}", {"name": "x", "mode": "random"}, "mode"),
        ("/teams/{team}", {"name": ""}, "name"),
        ("/rules", {"rules": [{"team_id": "{team}"}]}, "rules"),
        ("/rules", {"rules": [{"language": "polish", "team_id": "{team}"}]}, "language"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    client: TestClient,
    db_session: Session,
    tenant: Tenant,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    # given a team and a configured agent
    team = _team(client, tenant, "service")
    user = _user(db_session, tenant, "Sam Agent")
    _agent(client, tenant, user, languages=["nl"], teams=["service"], online=False)
    before = (
        client.get(f"{API}/agents", headers=tenant.headers).json(),
        client.get(f"{API}/teams", headers=tenant.headers).json(),
        client.get(f"{API}/rules", headers=tenant.headers).json(),
    )
    # when the input breaks a rule
    url = API + path.format(user=user, team=team)
    payload = _fill(body, team)
    response = client.put(url, headers=tenant.headers, json=payload)
    # then it is a 422 naming the field, and nothing changed
    assert response.status_code == 422, response.text
    locations = [".".join(map(str, e["loc"])) for e in response.json()["detail"]]
    assert any(field in location for location in locations), locations
    after = (
        client.get(f"{API}/agents", headers=tenant.headers).json(),
        client.get(f"{API}/teams", headers=tenant.headers).json(),
        client.get(f"{API}/rules", headers=tenant.headers).json(),
    )
    assert after == before


def _fill(value: Any, team: int) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, team) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, team) for v in value]
    return team if value == "{team}" else value


def test_routing_settings_page_is_for_leads_and_saves_an_agent(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a team, an agent and a manager
    _team(client, tenant, "service-pl")
    agent = _user(db_session, tenant, "Kasia Agent")
    _user(db_session, tenant, "Lead Manager", role=Role.manager)
    # when the agent opens the routing settings, it is refused
    login(client, f"kasia.agent@{tenant.slug}.example")
    assert client.get("/settings/routing").status_code == 403
    # when the manager opens it and saves the agent's languages, skills, capacity and team
    login(client, f"lead.manager@{tenant.slug}.example")
    page = client.get("/settings/routing")
    assert page.status_code == 200
    assert "Kasia Agent" in page.text and "service-pl" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {
        "csrf_token": csrf,
        "languages": "pl, en",
        "skills": "returns, delivery",
        "teams": "service-pl",
        "capacity_chat": "3",
        "capacity_email": "10",
    }
    saved = client.post(f"/settings/routing/agents/{agent}", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    # then the profile is stored (channels left blank take nothing)
    stored = routing.get_agent(db_session, org_id=tenant.org_id, user_id=agent)
    assert stored.languages == ["pl", "en"] and stored.skills == ["returns", "delivery"]
    assert stored.teams == ["service-pl"]
    assert stored.capacity["chat"] == 3 and stored.capacity["voice"] == 0
    # when a language is not a code, the page says which field and stores nothing
    refused = client.post(
        f"/settings/routing/agents/{agent}",
        data={**form, "languages": "Polish"},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "languages" in refused.text
    db_session.expire_all()
    assert routing.get_agent(db_session, org_id=tenant.org_id, user_id=agent).languages == [
        "pl",
        "en",
    ]


def test_the_inbox_shows_my_presence_and_the_team_queues_and_switches_presence(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given a team with a waiting conversation and an agent of it, offline
    _team(client, tenant, "service-nl")
    agent = _user(db_session, tenant, "Daan Agent")
    _agent(client, tenant, agent, languages=["nl"], teams=["service-nl"], online=False)
    waiting = _write(client, tenant, "v1", DUTCH)
    login(client, f"daan.agent@{tenant.slug}.example")
    # when the agent opens the inbox
    page = client.get("/inbox")
    # then it shows them offline and the team's queue with one waiting
    assert 'id="my-presence">offline<' in page.text
    assert "1 waiting" in page.text
    queue = client.get("/inbox?view=unassigned&team=service-nl")
    assert f"/inbox/{waiting['id']}?view=unassigned&amp;team=service-nl" in queue.text
    # when they switch to online
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    switched = client.post(
        "/inbox/presence",
        data={"csrf_token": csrf, "presence": "online", "back": "/inbox?view=mine"},
        follow_redirects=False,
    )
    # then they are online, back in the inbox, and the waiting conversation is theirs
    assert switched.status_code == 303 and switched.headers["location"] == "/inbox?view=mine"
    assert _assignee(client, tenant, waiting["id"]) == agent
    assert 'id="my-presence">online<' in client.get("/inbox").text


def test_closing_the_last_inbox_socket_is_recorded(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given an online agent with the inbox open
    _team(client, tenant, "service")
    agent = _user(db_session, tenant, "Sam Agent")
    _agent(client, tenant, agent, languages=["nl"], teams=["service"])
    login(client, f"sam.agent@{tenant.slug}.example")
    with client.websocket_connect("/inbox/live") as socket:
        socket.send_text("ping")
        assert socket.receive_text() == "pong"
        db_session.expire_all()
        row = db_session.scalar(select(RoutingAgent).where(RoutingAgent.user_id == agent))
        assert row is not None and row.disconnected_at is None
    # when the socket closes, the moment is stored; presence is still online for now
    db_session.expire_all()
    row = db_session.scalar(select(RoutingAgent).where(RoutingAgent.user_id == agent))
    assert row is not None and row.disconnected_at is not None
    assert row.presence is Presence.online
    # and once AWAY_AFTER has passed without an inbox, settling stores away
    later = row.disconnected_at + routing.AWAY_AFTER + timedelta(seconds=1)
    assert (
        routing.settle_presence(db_session, org_id=tenant.org_id, user_id=agent, now=later)
        is Presence.away
    )


def test_without_teams_nothing_is_routed(client: TestClient, tenant: Tenant) -> None:
    # given an organization that has not set up routing
    # when a message arrives, then it stays unassigned and without a team, as before routing
    conversation = _write(client, tenant, "v1", DUTCH)
    assert conversation["assignee_id"] is None and conversation["team"] is None
