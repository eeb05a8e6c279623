"""Sentiment and emotion metrics of comments and messages, on a small hand-built analytics store.

Organization 1: two touchpoints; three comments and one late comment, two customer messages (one
failed); organization 2 holds an analysis pointing at organization 1's first response.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from opencx.analytics.engine import connect
from opencx.analytics.metrics import text_emotions_by_group, text_sentiment_by_group
from opencx.analytics.tables import ANALYTICS_TABLES
from opencx.text import EMOTIONS

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
START, END = date(2026, 11, 30), date(2026, 12, 14)  # two ISO weeks: Nov 30 and Dec 7


def _at(day: int) -> datetime:
    return datetime(2026, 12, day, 10, tzinfo=UTC)


def _emotions(**levels: float) -> dict[str, float]:
    return {name: levels.get(name, 0.1) for name in EMOTIONS}


def _analysis(
    row_id: int,
    org_id: int,
    kind: str,
    source_id: int,
    sentiment: str | None,
    score: float | None,
    **levels: float,
) -> dict[str, Any]:
    return {
        "id": row_id, "org_id": org_id, "source_kind": kind, "source_id": source_id,
        "language": "en", "sentiment": sentiment, "sentiment_score": score,
        **(_emotions(**levels) if sentiment else dict.fromkeys(EMOTIONS)),
        "status": "done" if sentiment else "failed", "analyzed_at": _at(20),
    }  # fmt: skip


def _response(
    row_id: int, touchpoint_id: int, channel: str, agent_id: int | None, at: datetime
) -> dict[str, Any]:
    return {
        "id": row_id, "org_id": 1, "invitation_id": None, "survey_id": 1, "version_id": 1,
        "customer_id": None, "kind": "nps", "channel": channel, "language": "en",
        "touchpoint_id": touchpoint_id, "agent_id": agent_id, "team": None, "score": 5,
        "completed": True, "submitted_at": at,
    }  # fmt: skip


ROWS: dict[str, list[dict[str, Any]]] = {
    "survey_responses": [
        _response(1, 10, "email", 5, _at(1)),
        _response(2, 10, "email", 5, _at(2)),
        _response(3, 11, "chat", None, _at(8)),
        _response(4, 10, "email", 5, datetime(2026, 11, 20, tzinfo=UTC)),  # before the period
    ],
    "conversations": [
        {
            "id": 1,
            "org_id": 1,
            "customer_id": None,
            "channel": "chat",
            "status": "open",
            "priority": "normal",
            "tags": [],
            "assignee_id": 6,
            "team": None,
            "touchpoint_id": 11,
            "first_response_at": None,
            "resolved_at": None,
            "reopened_count": 0,
            "last_message_at": None,
            "merged_into_id": None,
        }
    ],
    "conversation_messages": [
        {
            "id": m,
            "org_id": 1,
            "conversation_id": 1,
            "channel": "chat",
            "direction": "inbound",
            "author_kind": "customer",
            "author_user_id": None,
            "sent_at": _at(7 + m),
        }
        for m in (1, 2)
    ],
    "text_analyses": [
        _analysis(1, 1, "survey_answer", 1, "negative", -0.8, anger=0.9, sadness=0.5),
        _analysis(2, 1, "survey_answer", 2, "positive", 0.6, anger=0.0, joy=0.7, trust=0.4),
        _analysis(3, 1, "survey_answer", 3, "neutral", 0.0, anger=0.2),
        _analysis(4, 1, "survey_answer", 4, "positive", 0.9),
        _analysis(5, 1, "conversation_message", 1, "negative", -0.5, anger=0.35),
        _analysis(6, 1, "conversation_message", 2, None, None),  # failed: not counted
        _analysis(7, 2, "survey_answer", 1, "positive", 1.0),  # another organization's
    ],
}


@pytest.fixture(scope="module")
def store() -> Iterator[BaseBackend]:
    backend = connect("duckdb:///:memory:")
    for table in ANALYTICS_TABLES:
        rows = [
            {"created_at": CREATED, "updated_at": CREATED, **row}
            for row in ROWS.get(table.name, [])
        ]
        backend.insert(table.name, pa.Table.from_pylist(rows, schema=table.schema.to_pyarrow()))
    yield backend
    backend.disconnect()


def _run(metric: Any, store: BaseBackend, **options: Any) -> dict[Any, dict[str, Any]]:
    tables = ("text_analyses", "survey_responses", "conversation_messages", "conversations")
    expression = metric(
        *(store.table(t) for t in tables), org_id=1, start=START, end=END, **options
    )
    return {(r["group_key"], r["period_start"]): r for r in expression.to_pyarrow().to_pylist()}


def test_sentiment_by_touchpoint_and_week_counts_comments_and_messages(store: BaseBackend) -> None:
    # when sentiment is computed per touchpoint and week over comments and messages
    rows = _run(text_sentiment_by_group, store, by="touchpoint", grain="week")
    # then touchpoint 10 has the two comments of the first week (the late one is out of range),
    # touchpoint 11 a comment and a message of the second (the failed analysis is left out)
    assert set(rows) == {(10, date(2026, 11, 30)), (11, date(2026, 12, 7))}
    first = rows[(10, date(2026, 11, 30))]
    assert (first["texts"], first["negative"], first["neutral"], first["positive"]) == (2, 1, 0, 1)
    assert first["negative_share"] == pytest.approx(0.5)
    assert first["mean_score"] == pytest.approx(-0.1)
    second = rows[(11, date(2026, 12, 7))]
    assert (second["texts"], second["negative"], second["neutral"]) == (2, 1, 1)
    assert second["score_sum"] == pytest.approx(-0.5)
    assert second["mean_score"] == pytest.approx(-0.25)


def test_message_sentiment_by_agent_uses_the_conversation_assignee(store: BaseBackend) -> None:
    # when only messages are grouped by agent over the whole period
    rows = _run(
        text_sentiment_by_group, store, by="agent", grain="none", source_kind="conversation_message"
    )
    # then the one analysed message counts for agent 6, to whom its conversation is assigned
    assert list(rows) == [(6, START)]
    assert rows[(6, START)]["texts"] == 1 and rows[(6, START)]["negative"] == 1


def test_comment_sentiment_by_agent_uses_the_response_agent(store: BaseBackend) -> None:
    # when only comments are grouped by agent over the whole period
    rows = _run(
        text_sentiment_by_group, store, by="agent", grain="none", source_kind="survey_answer"
    )
    # then agent 5 has the two comments about them, and the comment without agent forms NULL
    assert {key: row["texts"] for key, row in rows.items()} == {(5, START): 2, (None, START): 1}


def test_emotions_by_channel_give_mean_probability_and_share_present(store: BaseBackend) -> None:
    # when emotions are computed per channel over the whole period
    rows = _run(text_emotions_by_group, store, by="channel", grain="none")
    # then email holds the two comments: anger 0.9 and 0.0, joy 0.7 and 0.1
    email = rows[("email", START)]
    assert email["texts"] == 2
    assert email["anger_mean"] == pytest.approx(0.45)
    assert email["anger_share"] == pytest.approx(0.5)
    assert email["joy_mean"] == pytest.approx(0.4)
    assert email["joy_share"] == pytest.approx(0.5)
    assert email["fear_share"] == 0.0
    # and chat a comment (anger 0.2) and a message at exactly the threshold (0.35: present)
    chat = rows[("chat", START)]
    assert chat["texts"] == 2
    assert chat["anger_mean"] == pytest.approx(0.275)
    assert chat["anger_texts"] == 1 and chat["anger_share"] == pytest.approx(0.5)


def test_an_unknown_dimension_or_source_is_refused(store: BaseBackend) -> None:
    # when a metric is asked for a dimension or source it does not know, then it says which
    with pytest.raises(ValueError, match="by must be one of"):
        _run(text_sentiment_by_group, store, by="country")
    with pytest.raises(ValueError, match="source_kind must be one of"):
        _run(text_emotions_by_group, store, source_kind="call_transcript")
