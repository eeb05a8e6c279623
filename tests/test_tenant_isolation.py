"""Every API route, called with organization A's key on organization B's data, reads and changes nothing.

The test walks the OpenAPI schema, so a new route must get an entry below or the test fails:
routes with an id in the path must answer 404 for B's ids (never 200, never 403, which would
reveal that the id exists); routes without one must not show B's data; and afterwards every row
of organization B is exactly as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.commerce import service as commerce
from opencx.commerce.schemas import OrderIn, ProductIn
from opencx.conversations import service as conversations
from opencx.conversations import sla
from opencx.conversations.routing import service as routing
from opencx.conversations.routing.schemas import AgentRoutingIn, RuleIn, TeamIn
from opencx.conversations.schemas import BusinessHoursIn, InboundMessageIn, MacroIn, SlaPolicyIn
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.db import Base
from opencx.journeys import service as journeys
from opencx.journeys.funnels import service as funnels
from opencx.journeys.funnels.schemas import FunnelIn
from opencx.journeys.maps import service as journey_maps
from opencx.journeys.maps.schemas import TaskIn
from opencx.journeys.schemas import TouchpointIn
from opencx.surveys import service as surveys
from opencx.surveys.schemas import InvitationIn, SurveyIn
from opencx.textanalytics.models import TextTopic
from opencx.webhooks import service as webhooks
from opencx.webhooks.schemas import WebhookIn
from tests.conftest import Tenant

NOW = datetime.now(UTC).replace(microsecond=0)
B_MARKER = "zebulon-secret-b"  # a string that only organization B's data contains


def _arrange(session: Session, tenant: Tenant, marker: str) -> dict[str, int]:
    """Give an organization one of everything; return the ids by path parameter name."""
    customer, _ = customers.upsert_customer(
        session,
        org_id=tenant.org_id,
        data=CustomerIn.model_validate(
            {
                "first_name": marker,
                "last_name": "Tester",
                "country": "NL",
                "language": "nl",
                "identities": [{"kind": "email", "value": f"{marker}@example.com"}],
                "consents": [
                    {
                        "purpose": "surveys",
                        "channel": "email",
                        "status": "granted",
                        "occurred_at": NOW,
                    }
                ],
            }
        ),
        source="test",
    )
    product = commerce.upsert_products(
        session,
        org_id=tenant.org_id,
        products=[ProductIn(sku=f"{marker}-sku", name=f"{marker} sofa", kind="product", price=100)],
    )[0]
    order = commerce.create_order(
        session,
        org_id=tenant.org_id,
        data=OrderIn.model_validate(
            {
                "external_id": f"{marker}-order",
                "customer_id": customer.id,
                "channel": "web",
                "placed_at": NOW - timedelta(days=3),
                "lines": [{"sku": product.sku, "quantity": 1, "unit_price": 100}],
                "deliveries": [
                    {
                        "carrier": "PostNL",
                        "promised_at": NOW - timedelta(days=1),
                        "status_history": [
                            {"status": "ordered", "occurred_at": NOW - timedelta(days=3)}
                        ],
                    }
                ],
            }
        ),
    )
    touchpoint = journeys.upsert_touchpoints(
        session,
        org_id=tenant.org_id,
        touchpoints=[
            TouchpointIn(
                key=f"{marker}-checkout",
                name=f"{marker} checkout",
                stage="purchase",
                channel="web",
                is_online=True,
                department="sales",
            )
        ],
    )[0]
    result = journeys.ingest_events(
        session,
        org_id=tenant.org_id,
        items=[
            {
                "event_id": f"{marker}-e1",
                "customer_id": customer.id,
                "touchpoint": touchpoint.key,
                "type": "checkout_started",
                "timestamp": (NOW - timedelta(hours=1)).isoformat(),
                "properties": {"note": marker},
            }
        ],
    )
    assert result.accepted == 1
    survey = surveys.create_survey(
        session, org_id=tenant.org_id, data=SurveyIn(name=f"{marker} survey", kind="nps")
    )
    surveys.publish_survey(session, org_id=tenant.org_id, survey_id=survey.id)
    invitation = surveys.create_invitation(
        session,
        org_id=tenant.org_id,
        survey_id=survey.id,
        data=InvitationIn(customer_id=customer.id, channel="email", touchpoint_id=touchpoint.id),
    )
    # A detractor's answer, so the organization also has a follow-up.
    surveys.record_answers(
        session,
        token=invitation.token,
        form={"shown": ["score", "why"], "q_score": ["3"], "q_why": [marker]},
    )
    webhook = webhooks.create_webhook(
        session,
        org_id=tenant.org_id,
        data=WebhookIn(
            url=f"https://{marker}.example/hooks", event_types=["survey.response.created"]
        ),
    )
    inbound = conversations.record_inbound_message(
        session,
        org_id=tenant.org_id,
        data=InboundMessageIn.model_validate(
            {
                "channel": "email",
                # the same Message-ID in both organizations: unique per organization only
                "channel_message_id": "<same-message@example.com>",
                "sender": {"kind": "email", "value": f"{marker}@example.com"},
                "subject": f"{marker} complaint",
                "body": marker,
                "attachments": [
                    {"filename": f"{marker}.txt", "content_base64": "aGVsbG8="}  # hello
                ],
                "received_at": NOW - timedelta(minutes=5),
            }
        ),
    )
    macro = conversations.create_macro(
        session, org_id=tenant.org_id, data=MacroIn(name=marker, texts={"en": marker})
    )
    topic = TextTopic(
        org_id=tenant.org_id, language="en", label=marker, phrases={marker: 1.0}, learned_at=NOW
    )
    session.add(topic)
    funnel = funnels.create_funnel(
        session,
        org_id=tenant.org_id,
        data=FunnelIn(
            name=f"{marker} funnel",
            steps=[{"touchpoint_key": touchpoint.key}, {"event_type": "checkout_started"}],
        ),
    )
    task = journey_maps.create_task(
        session,
        org_id=tenant.org_id,
        data=TaskIn(name=marker, start_event="checkout_start", success_event="checkout_complete"),
    )
    policy = sla.set_sla_policy(
        session,
        org_id=tenant.org_id,
        data=SlaPolicyIn(team=marker, channel="email", priority="normal", first_response_minutes=9),
    )
    sla.set_business_hours(
        session,
        org_id=tenant.org_id,
        data=BusinessHoursIn.model_validate(
            {
                "team": marker,
                "time_zone": "UTC",
                "periods": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}],
            }
        ),
    )
    session.commit()
    follow_up_id = session.scalar(
        sa.text("SELECT id FROM survey_follow_ups WHERE org_id = :org"), {"org": tenant.org_id}
    )
    delivery_id = (
        commerce.get_order_detail(session, org_id=tenant.org_id, order_id=order.id).deliveries[0].id
    )
    api_key_id = session.scalar(
        sa.text("SELECT id FROM api_keys WHERE org_id = :org"), {"org": tenant.org_id}
    )
    user_id = session.scalar(
        sa.text("SELECT id FROM users WHERE org_id = :org"), {"org": tenant.org_id}
    )
    team = routing.create_team(session, org_id=tenant.org_id, data=TeamIn(name=f"{marker} team"))
    rule = routing.create_rule(
        session, org_id=tenant.org_id, data=RuleIn(channel="voice", team_id=team.id)
    )
    routing.update_agent(
        session,
        org_id=tenant.org_id,
        user_id=user_id,
        data=AgentRoutingIn(languages=["nl"], teams=[team.name]),
    )
    session.commit()
    return {
        "user_id": user_id,
        "team_id": team.id,
        "rule_id": rule.id,
        "customer_id": customer.id,
        "product_id": product.id,
        "order_id": order.id,
        "delivery_id": delivery_id,
        "touchpoint_id": touchpoint.id,
        "api_key_id": api_key_id,
        "survey_id": survey.id,
        "conversation_id": inbound.conversation.id,
        "attachment_id": inbound.message.attachments[0].id,
        "macro_id": macro.id,
        "policy_id": policy.id,
        "invitation_id": invitation.id,
        "follow_up_id": follow_up_id,
        "webhook_id": webhook.id,
        "topic_id": topic.id,
        "funnel_id": funnel.id,
        "task_id": task.id,
    }


def _snapshot(session: Session, org_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one organization in every tenant table, in a stable order."""
    session.expire_all()
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        if "org_id" in table.c:
            rows = session.execute(
                sa.select(table).where(table.c.org_id == org_id).order_by(table.c.id)
            ).all()
            snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


def _bodies(b_ids: dict[str, int], a_ids: dict[str, int]) -> dict[tuple[str, str], Any]:
    """A valid body for every route that takes one: the 404 must come from the id, not the body."""
    when = NOW.isoformat()
    return {
        ("POST", "/api/v1/api-keys"): {"name": "another"},
        ("POST", "/api/v1/journey-tasks"): {
            "name": "Checkout",
            "start_event": "checkout_start",
            "success_event": "checkout_complete",
        },
        ("PUT", "/api/v1/journey-tasks/{task_id}"): {
            "name": "Renamed",
            "start_event": "checkout_start",
            "success_event": "checkout_complete",
        },
        ("POST", "/api/v1/customers"): {
            "first_name": "Anna",
            "identities": [{"kind": "email", "value": "anna@a.example"}],
        },
        ("PATCH", "/api/v1/customers/{customer_id}"): {"city": "Utrecht"},
        ("POST", "/api/v1/customers/{customer_id}/consent"): {
            "purpose": "marketing",
            "channel": "email",
            "status": "withdrawn",
            "occurred_at": when,
            "source": "test",
        },
        ("POST", "/api/v1/customers/{customer_id}/merge"): {"merged_id": a_ids["customer_id"]},
        ("POST", "/api/v1/products"): {
            "products": [{"sku": "a-new", "name": "Lamp", "kind": "product", "price": 20}]
        },
        ("POST", "/api/v1/orders"): {
            "external_id": "a-order-2",
            "channel": "web",
            "placed_at": when,
            "lines": [{"sku": "a-new", "quantity": 1, "unit_price": 20}],
        },
        ("POST", "/api/v1/orders/import"): {"orders": []},
        ("POST", "/api/v1/orders/{order_id}/payments"): {"amount": 10, "occurred_at": when},
        ("POST", "/api/v1/deliveries/{delivery_id}/status"): {
            "status": "delivered",
            "occurred_at": when,
        },
        ("POST", "/api/v1/touchpoints"): {
            "touchpoints": [
                {
                    "key": "a-new-tp",
                    "name": "New",
                    "stage": "awareness",
                    "channel": "web",
                    "is_online": True,
                    "department": "marketing",
                }
            ]
        },
        ("POST", "/api/v1/events"): {"events": []},
        ("POST", "/api/v1/surveys"): {"name": "After delivery", "kind": "csat"},
        ("PUT", "/api/v1/surveys/{survey_id}/questions"): {
            "questions": [{"key": "score", "kind": "rating", "text": {"en": "How was it?"}}]
        },
        ("POST", "/api/v1/survey-triggers"): {
            "trigger": "order_placed",
            "customer_id": a_ids["customer_id"],
        },
        ("POST", "/api/v1/conversations/messages"): {
            "channel": "email",
            "channel_message_id": "<same-message@example.com>",
            "sender": {"kind": "email", "value": "new@a.example"},
            "body": "hello",
            "received_at": when,
        },
        ("PATCH", "/api/v1/conversations/{conversation_id}"): {"status": "resolved"},
        ("POST", "/api/v1/conversations/{conversation_id}/replies"): {"body": "hi"},
        ("POST", "/api/v1/conversations/{conversation_id}/notes"): {"body": "hi"},
        ("POST", "/api/v1/conversations/{conversation_id}/assign"): {"team": "Delivery"},
        ("POST", "/api/v1/conversations/{conversation_id}/merge"): {
            "merged_id": a_ids["conversation_id"]
        },
        ("POST", "/api/v1/macros"): {"name": "Hi", "texts": {"en": "Hi"}},
        ("PUT", "/api/v1/macros/{macro_id}"): {"name": "Hi", "texts": {"en": "Hi"}},
        ("POST", "/api/v1/macros/{macro_id}/render"): {"conversation_id": a_ids["conversation_id"]},
        ("POST", "/api/v1/surveys/{survey_id}/invitations"): {
            "customer_id": a_ids["customer_id"],
            "channel": "email",
        },
        ("PUT", "/api/v1/surveys/{survey_id}/public-link"): {"enabled": True},
        ("PATCH", "/api/v1/survey-follow-ups/{follow_up_id}"): {
            "status": "contacted",
            "note": "called",
        },
        ("POST", "/api/v1/survey-follow-ups/{follow_up_id}/notes"): {"text": "called"},
        ("PUT", "/api/v1/survey-follow-up-settings"): {"due_hours": 24},
        ("PATCH", "/api/v1/text/topics/{topic_id}"): {"name": "Late deliveries"},
        ("POST", "/api/v1/text/topics/{topic_id}/merge"): {"topic_ids": [a_ids["topic_id"]]},
        ("PUT", "/api/v1/routing/agents/{user_id}"): {"languages": ["pl"], "teams": []},
        ("PUT", "/api/v1/routing/agents/{user_id}/presence"): {"presence": "online"},
        ("POST", "/api/v1/routing/teams"): {"name": "a-new-team"},
        ("PUT", "/api/v1/routing/teams/{team_id}"): {"name": "renamed", "mode": "least_loaded"},
        ("PUT", "/api/v1/routing/rules"): {"rules": []},
        ("POST", "/api/v1/routing/rules"): {"channel": "chat", "team_id": a_ids["team_id"]},
        ("POST", "/api/v1/journeys/funnels/query"): {
            "steps": [{"event_type": "a"}, {"event_type": "b"}],
            "start": (NOW - timedelta(days=30)).date().isoformat(),
            "end": (NOW + timedelta(days=1)).date().isoformat(),
        },
        ("POST", "/api/v1/journeys/funnels"): {
            "name": "Theirs",
            "steps": [{"event_type": "a"}, {"event_type": "b"}],
        },
        ("PUT", "/api/v1/journeys/funnels/{funnel_id}"): {
            "name": "Theirs",
            "steps": [{"event_type": "a"}, {"event_type": "b"}],
        },
        ("PUT", "/api/v1/sla/policies"): {"channel": "chat", "priority": "high"},
        ("PUT", "/api/v1/sla/business-hours"): {
            "time_zone": "UTC",
            "periods": [{"weekday": 0, "opens": "08:00", "closes": "16:00"}],
        },
        ("POST", "/api/v1/webhooks"): {
            "url": "https://a.example/hooks",
            "event_types": ["survey.response.updated"],
        },
        ("PUT", "/api/v1/channel-settings"): {
            "channel": "messenger",
            "values": {"app_secret": "a-new-secret-0000"},
        },
    }


QUERY = {
    "purpose": "surveys",
    "channel": "email",
    "start": (NOW - timedelta(days=30)).date().isoformat(),
    "end": (NOW + timedelta(days=1)).date().isoformat(),
    "metric": "nps",
    "by": "agent",
    "a_start": (NOW - timedelta(days=60)).date().isoformat(),
    "a_end": (NOW - timedelta(days=30)).date().isoformat(),
    "b_start": (NOW - timedelta(days=30)).date().isoformat(),
    "b_end": (NOW + timedelta(days=1)).date().isoformat(),
    "source_kind": "conversation_message",
    "source_id": [1, 2, 3],
}


def _routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/api/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_no_route_reads_or_changes_another_organizations_data(
    client: TestClient, db_session: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given organization A and organization B, each with one of everything
    a_ids = _arrange(db_session, tenant, "alpha-a")
    b_ids = _arrange(db_session, other_tenant, B_MARKER)
    before = _snapshot(db_session, other_tenant.org_id)
    bodies = _bodies(b_ids, a_ids)
    routes = _routes(client)
    assert len(routes) > 20

    for method, path, operation in routes:
        path_params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        query = {
            p["name"]: QUERY[p["name"]]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        if "requestBody" in operation:
            assert (method, path) in bodies, f"add a valid body for {method} {path} to this test"
        body = bodies.get((method, path))
        if path_params:
            # when A's key names B's ids in the path, then 404, nothing else
            url = path.format(**{name: b_ids[name] for name in path_params})
            response = client.request(method, url, headers=tenant.headers, params=query, json=body)
            assert response.status_code == 404, (
                f"{method} {url}: {response.status_code} {response.text}"
            )
            assert B_MARKER not in response.text
        else:
            # when A calls a collection route, then nothing of B shows
            response = client.request(method, path, headers=tenant.headers, params=query, json=body)
            assert response.status_code < 500, f"{method} {path}: {response.text}"
            assert B_MARKER not in response.text, f"{method} {path} leaked B's data"

    # and merging B's customer into A's customer is 404 too (the body names B's id)
    merge = client.post(
        f"/api/v1/customers/{a_ids['customer_id']}/merge",
        headers=tenant.headers,
        json={"merged_id": b_ids["customer_id"]},
    )
    assert merge.status_code == 404, merge.text
    # and an order or event of A cannot point at B's customer
    order = client.post(
        "/api/v1/orders",
        headers=tenant.headers,
        json={
            "external_id": "a-order-3",
            "customer_id": b_ids["customer_id"],
            "channel": "web",
            "placed_at": NOW.isoformat(),
            "lines": [{"sku": "alpha-a-sku", "quantity": 1, "unit_price": 1}],
        },
    )
    assert order.status_code in (404, 422), order.text
    events = client.post(
        "/api/v1/events",
        headers=tenant.headers,
        json={
            "events": [
                {
                    "event_id": "x1",
                    "customer_id": b_ids["customer_id"],
                    "touchpoint": "alpha-a-checkout",
                    "type": "view",
                    "timestamp": NOW.isoformat(),
                },
                {
                    "event_id": "x2",
                    "anonymous_id": "anon",
                    "touchpoint": f"{B_MARKER}-checkout",
                    "type": "view",
                    "timestamp": NOW.isoformat(),
                },
            ]
        },
    )
    assert events.status_code == 200 and events.json()["accepted"] == 0, events.text

    # then every row of organization B is exactly as it was
    assert _snapshot(db_session, other_tenant.org_id) == before


@pytest.mark.parametrize("path", ["/api/v1/customers/999999", "/api/v1/orders/999999"])
def test_unknown_ids_are_404_like_other_tenants_ids(
    client: TestClient, tenant: Tenant, path: str
) -> None:
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 404
