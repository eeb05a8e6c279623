"""How customers feel, in the product: badges on messages, comments and the customer 360, the
emotion columns, the analytics store and its API, and the "How customers feel" page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from opencx import migrate
from opencx.analytics.sync import sync_to_analytics
from opencx.db import make_engine
from opencx.text import EMOTIONS
from opencx.textanalytics import service
from opencx.textanalytics.models import AnalyzedText, TextSourceKind
from tests.conftest import Tenant, login, make_tenant
from tests.textanalytics.conftest import RatedWorld, answer_nps, make_rated_world, send_message

COMPLAINT = "The parcel arrived broken and two weeks late, I want a refund now"
PRAISE = "Great service, fast delivery and a very friendly driver, thank you"


def _world(session: Session, org_id: int) -> tuple[RatedWorld, int, int]:
    """Three rated comments each way, a complaint by email and one praising comment."""
    world = make_rated_world(session, org_id, 3)
    message_id = send_message(session, org_id, COMPLAINT, "<complaint@example.com>")
    answer_nps(session, world, 10, PRAISE)
    session.commit()
    service.analyze_pending_texts(session, org_id=org_id)
    session.commit()
    response_id = session.scalars(
        sa.select(AnalyzedText.source_id).where(
            AnalyzedText.org_id == org_id,
            AnalyzedText.source_kind == TextSourceKind.survey_answer,
        )
    ).all()[-1]
    return world, message_id, response_id


def test_enrichment_fills_the_emotion_columns(db_session: Session, tenant: Tenant) -> None:
    # given an inbound message, when it is analysed
    send_message(db_session, tenant.org_id, COMPLAINT, "<m1@example.com>")
    service.analyze_pending_texts(db_session, org_id=tenant.org_id)
    # then each of the eight emotions is a column holding the same probability as the JSON
    row = db_session.scalars(select_analyses(tenant.org_id)).one()
    assert row.sentiment == "negative"
    assert {name: getattr(row, name) for name in EMOTIONS} == row.emotions


def select_analyses(org_id: int) -> sa.Select[tuple[AnalyzedText]]:
    return sa.select(AnalyzedText).where(AnalyzedText.org_id == org_id)


def test_feelings_of_messages_and_responses_in_one_call(
    db_session: Session, tenant: Tenant
) -> None:
    # given an analysed complaint and an analysed praising comment
    _, message_id, response_id = _world(db_session, tenant.org_id)
    other = make_tenant(db_session, "globex")
    # when their feelings are listed, with the complaint as the most recent text
    feelings = service.list_text_feelings(
        db_session,
        org_id=tenant.org_id,
        message_ids=[message_id, 999_999],
        response_ids=[response_id],
        recent=[
            (TextSourceKind.conversation_message, message_id),
            (TextSourceKind.survey_answer, response_id),
        ],
    )
    # then the message is negative, the comment positive, each with its strongest emotions
    complaint, praise = feelings.messages[message_id], feelings.comments[response_id]
    assert complaint.sentiment == "negative" and complaint.sentiment_score < 0
    assert praise.sentiment == "positive" and praise.sentiment_score > 0
    for feeling in (complaint, praise):
        levels = [e.probability for e in feeling.emotions]
        assert levels == sorted(levels, reverse=True) and len(levels) <= service.SHOWN_EMOTIONS
        assert all(p >= service.EMOTION_SHOWN_AT for p in levels[1:])
        assert not levels or levels[0] >= service.EMOTION_FLOOR
    # (praise this clear has its likeliest emotion, joy, well above the floor)
    assert praise.emotions[0].name == "joy"
    # and the summary counts both, an unknown id gives nothing
    assert feelings.recent is not None and feelings.recent.texts == 2
    assert (feelings.recent.negative, feelings.recent.positive) == (1, 1)
    assert 999_999 not in feelings.messages
    # and another organization asking for the same ids sees none of them
    theirs = service.list_text_feelings(
        db_session, org_id=other.org_id, message_ids=[message_id], response_ids=[response_id]
    )
    assert theirs.messages == {} and theirs.comments == {}


def test_badges_in_the_inbox_the_comments_and_the_customer_360(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given an analysed complaint by email and an analysed praising comment of the same customer
    world, message_id, _ = _world(db_session, tenant.org_id)
    conversation_id = db_session.execute(
        sa.text("SELECT conversation_id FROM conversation_messages WHERE id = :id"),
        {"id": message_id},
    ).scalar_one()
    login(client, tenant.admin_email)
    # when the agent opens the conversation, then the customer's message carries its sentiment
    inbox = client.get(f"/inbox/{conversation_id}").text
    message = inbox.split('id="conversation-messages"')[1].split("</ol>")[0]
    assert 'class="sentiment sentiment-negative"' in message
    assert "How they feel" in inbox
    # and the comments page shows the praising comment as positive
    comments = client.get("/surveys/comments").text
    assert 'class="sentiment sentiment-positive"' in comments
    # and the results page's latest responses too
    results = client.get(f"/surveys/{world.survey_id}/results").text
    assert 'class="sentiment sentiment-positive"' in results
    # and the customer 360 sums up the recent texts and marks them in the timeline
    profile = client.get(f"/customers/{world.customer_id}").text
    assert "How this customer feels" in profile
    timeline = profile.split('id="timeline-heading"')[1]
    assert 'class="sentiment sentiment-negative"' in timeline
    assert 'class="sentiment sentiment-positive"' in timeline


def test_the_analytics_store_and_api_give_sentiment_and_emotions(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given analysed comments and a message, synced to the analytics store
    _world(db_session, tenant.org_id)
    copied = sync_to_analytics().copied
    stored = db_session.scalars(select_analyses(tenant.org_id)).all()
    assert copied["text_analyses"] == len(stored)
    today = datetime.now(UTC).date()
    period = {"start": str(today - timedelta(days=7)), "end": str(today + timedelta(days=1))}
    # when the API is asked for sentiment and emotions by channel over the whole period
    sentiment = client.get(
        "/api/v1/analytics/text-sentiment",
        params={**period, "by": "channel", "grain": "none"},
        headers=tenant.headers,
    )
    emotions = client.get(
        "/api/v1/analytics/text-emotions",
        params={**period, "by": "channel", "grain": "none", "source_kind": "survey_answer"},
        headers=tenant.headers,
    )
    # then sentiment counts every analysed text, as stored, with the mean score
    assert sentiment.status_code == 200, sentiment.text
    rows = sentiment.json()
    assert sum(row["texts"] for row in rows) == len(stored)
    assert sum(row["negative"] for row in rows) == sum(r.sentiment == "negative" for r in stored)
    assert sum(r["mean_score"] * r["texts"] for r in rows) == pytest.approx(
        sum(r.sentiment_score or 0 for r in stored)
    )
    # and emotions of the comments only, with a mean and a share per emotion
    assert emotions.status_code == 200, emotions.text
    comment_rows = [r for r in stored if r.source_kind is TextSourceKind.survey_answer]
    (email,) = emotions.json()
    assert email["texts"] == len(comment_rows)
    assert email["mean"]["joy"] == pytest.approx(
        sum(r.joy or 0 for r in comment_rows) / len(comment_rows)
    )
    assert set(email["share"]) == set(EMOTIONS)


def test_the_api_names_a_bad_field(client: TestClient, tenant: Tenant) -> None:
    # when a dimension the texts do not have or a reversed period is asked for
    bad_by = client.get(
        "/api/v1/analytics/text-sentiment",
        params={"by": "country", "start": "2026-01-01", "end": "2026-02-01"},
        headers=tenant.headers,
    )
    reversed_period = client.get(
        "/api/v1/analytics/text-emotions",
        params={"by": "channel", "start": "2026-02-01", "end": "2026-01-01"},
        headers=tenant.headers,
    )
    # then each is refused naming the field
    assert bad_by.status_code == 422 and "by" in bad_by.text
    assert reversed_period.status_code in (400, 422) and "end" in reversed_period.text


def test_the_feelings_page_shows_the_trend_emotions_and_groups(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given analysed, synced texts
    _world(db_session, tenant.org_id)
    sync_to_analytics()
    login(client, tenant.admin_email)
    # when the page is opened grouped by channel
    page = client.get("/feedback/feelings", params={"by": "channel", "weeks": 4})
    # then it draws the weekly sentiment and the emotion heat map, with tables beside them
    assert page.status_code == 200
    assert "data-sentiment-trend=" in page.text and "data-heatmap=" in page.text
    assert "Emotions by channel" in page.text and "Sentiment by agent" in page.text
    table = page.text.split('id="groups-heading"')[1]
    assert '<th scope="row">email</th>' in table
    # and a source it does not know is refused naming the field
    assert client.get("/feedback/feelings", params={"source": "calls"}).status_code in (400, 422)


def test_the_migration_back_fills_the_emotion_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # given a database with an analysis whose emotions are only in the JSON (as before 0007)
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            tenant = make_tenant(session, "acme")
            session.add(
                AnalyzedText(
                    org_id=tenant.org_id,
                    source_kind=TextSourceKind.conversation_message,
                    source_id=1,
                    field="body",
                    text_sha256="0" * 64,
                    status="done",
                    sentiment="negative",
                    sentiment_score=-0.5,
                    emotions={**dict.fromkeys(EMOTIONS, 0.1), "anger": 0.8},
                )
            )
            session.commit()
        engine.dispose()
        # when the columns are taken away and the migration runs again
        migrate.downgrade(url, "0006")
        migrate.upgrade(url)
        # then they hold the JSON's probabilities
        with engine.connect() as connection:
            anger, joy = connection.execute(sa.text("SELECT anger, joy FROM text_analyses")).one()
    finally:
        engine.dispose()
    assert (anger, joy) == (0.8, 0.1)
