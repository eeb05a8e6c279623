"""REST API of text analytics: train, list models, read analyses, reanalyse."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx.textanalytics import service
from tests.conftest import Tenant, make_tenant
from tests.textanalytics.conftest import RatedWorld, send_message


def test_train_then_read_models_and_message_analyses(
    client: TestClient, db_session: Session, tenant: Tenant, rated_world: RatedWorld
) -> None:
    # when the organization trains through the API
    trained = client.post("/api/v1/text/sentiment-models/train", headers=tenant.headers)
    assert trained.status_code == 200
    [model] = trained.json()
    assert model["language"] == "en" and model["chosen"] is True
    assert model["learned"]["macro_f1"] > model["default"]["macro_f1"]
    assert client.get("/api/v1/text/sentiment-models", headers=tenant.headers).json() == [model]
    # and a message arrives and the enrichment round runs
    message_id = send_message(db_session, tenant.org_id, "The sofa cushions are sagging", "m-1")
    service.analyze_pending_texts(db_session, org_id=tenant.org_id)
    db_session.commit()
    # then the message's analysis can be read by its id
    found = client.get(
        "/api/v1/text/analyses",
        params={"source_kind": "conversation_message", "source_id": [message_id]},
        headers=tenant.headers,
    )
    assert found.status_code == 200
    [analysis] = found.json()
    assert analysis["sentiment"] == "negative" and analysis["model"].startswith(model["identifier"])
    # and reanalysis marks every analysis (121 comments and the message)
    marked = client.post("/api/v1/text/reanalyze", headers=tenant.headers)
    assert marked.json() == {"marked": 122}


def test_another_organization_reads_nothing(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    message_id = send_message(db_session, tenant.org_id, "Where is my order?", "m-2")
    service.analyze_pending_texts(db_session, org_id=tenant.org_id)
    db_session.commit()
    other = make_tenant(db_session, "globex")
    found = client.get(
        "/api/v1/text/analyses",
        params={"source_kind": "conversation_message", "source_id": [message_id]},
        headers=other.headers,
    )
    assert found.status_code == 200 and found.json() == []


def test_bad_query_is_422_naming_the_field(client: TestClient, tenant: Tenant) -> None:
    answer = client.get(
        "/api/v1/text/analyses",
        params={"source_kind": "tweet", "source_id": [1]},
        headers=tenant.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "source_kind"]
    missing = client.get(
        "/api/v1/text/analyses",
        params={"source_kind": "survey_answer"},
        headers=tenant.headers,
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "source_id"]
