"""Topics per organization: learned from analysed texts, assigned by enrichment, explored,
renamed and merged, and kept across relearning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.textanalytics import service
from opencx.textanalytics.models import AnalyzedText, AnalyzedTextTopic, TextSourceKind, TextTopic
from opencx.textanalytics.schemas import (
    TopicExplorer,
    TopicFilter,
    TopicMergeIn,
    TopicOut,
    TopicRenameIn,
)
from tests.conftest import Tenant, login, make_tenant
from tests.text.test_topics import two_themes
from tests.textanalytics.conftest import send_message
from tests.textanalytics.test_pages import csrf

PER_THEME = 25


def send_and_enrich(session: Session, org_id: int, texts: list[str], prefix: str) -> list[int]:
    """Inbound messages through the conversations service, then one enrichment round."""
    ids = [
        send_message(session, org_id, text, f"<{prefix}-{i}@example.com>")
        for i, text in enumerate(texts)
    ]
    service.analyze_pending_texts(session, org_id=org_id)
    session.commit()
    return ids


@pytest.fixture
def themed(db_session: Session, tenant: Tenant) -> list[int]:
    """Fifty inbound messages, half about late deliveries, half about damaged items, analysed."""
    return send_and_enrich(db_session, tenant.org_id, two_themes(PER_THEME, seed=11)[0], "m")


def explore(session: Session, org_id: int, **filters: object) -> TopicExplorer:
    session.expire_all()
    return service.list_topics(session, org_id=org_id, filters=TopicFilter(**filters))


def topic_about(explorer: TopicExplorer, word: str) -> TopicOut:
    return next(t for t in explorer.topics if word in t.label)


def topics_of_message(session: Session, org_id: int, message_id: int) -> list[int]:
    session.expire_all()
    return list(
        session.scalars(
            select(AnalyzedTextTopic.topic_id)
            .join(AnalyzedText, AnalyzedText.id == AnalyzedTextTopic.analysis_id)
            .where(
                AnalyzedText.org_id == org_id,
                AnalyzedText.source_kind == TextSourceKind.conversation_message,
                AnalyzedText.source_id == message_id,
            )
        )
    )


def main_topic_of_message(session: Session, org_id: int, message_id: int) -> int:
    return session.scalars(
        select(AnalyzedTextTopic.topic_id)
        .join(AnalyzedText, AnalyzedText.id == AnalyzedTextTopic.analysis_id)
        .where(
            AnalyzedText.org_id == org_id,
            AnalyzedText.source_kind == TextSourceKind.conversation_message,
            AnalyzedText.source_id == message_id,
        )
        .order_by(AnalyzedTextTopic.weight.desc())
    ).first()


def test_learning_gives_every_analysed_text_a_topic_with_volume_trend_and_sentiment(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    # when the organization's topics are learned from its analysed messages
    models = service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    # then English has two topics, one per theme, and every message counts in one of them
    assert [(m.language, m.topic_count, m.text_count) for m in models] == [("en", 2, 50)]
    explorer = explore(db_session, tenant.org_id)
    late, damaged = topic_about(explorer, "late"), topic_about(explorer, "damaged")
    assert explorer.with_topic == 2 * PER_THEME and explorer.languages == ["en"]
    themes = two_themes(PER_THEME, seed=11)[1]
    for message_id, theme in zip(themed, themes, strict=True):
        main = main_topic_of_message(db_session, tenant.org_id, message_id)
        assert main == (late.id if theme == "late" else damaged.id)
    # (a text may have a second topic: a greeting shared with the other theme's texts)
    assert PER_THEME <= late.volume <= PER_THEME + 2
    assert PER_THEME <= damaged.volume <= PER_THEME + 2
    # and each has its weekly trend (all sent this week) and its sentiment shares
    assert sum(late.weekly) == late.volume and late.weekly[-1] == late.volume
    assert explorer.weeks[-1] == utcnow().date() - timedelta(days=utcnow().weekday())
    assert late.negative_share is not None and 0 <= late.negative_share <= 1
    assert late.negative_share + (late.positive_share or 0) <= 1
    assert "late" in " ".join(late.phrases) and not late.renamed


def test_new_messages_get_topics_when_analysed_without_relearning(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    late = topic_about(explore(db_session, tenant.org_id), "late")
    # when a new message arrives and the enrichment round analyses it
    [message_id] = send_and_enrich(
        db_session, tenant.org_id, ["Hi, my desk delivery is late again, any news?"], "new"
    )
    # then it has the late-delivery topic, and the topic counts it
    assert topics_of_message(db_session, tenant.org_id, message_id) == [late.id]
    assert topic_about(explore(db_session, tenant.org_id), "late").volume == late.volume + 1


def test_a_merge_moves_the_texts_and_later_texts_and_relearning_follow_it(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    explorer = explore(db_session, tenant.org_id)
    late, damaged = topic_about(explorer, "late"), topic_about(explorer, "damaged")
    # when the manager merges the damaged-item topic into the late-delivery one
    merged = service.merge_topics(
        db_session,
        org_id=tenant.org_id,
        topic_id=late.id,
        data=TopicMergeIn(topic_ids=[damaged.id]),
    )
    db_session.commit()
    # then every text counts for it, and the explorer shows one topic
    assert merged.volume == 2 * PER_THEME and merged.merged_topic_ids == [damaged.id]
    assert db_session.scalar(select(func.count()).select_from(AnalyzedTextTopic)) == 2 * PER_THEME
    assert [t.id for t in explore(db_session, tenant.org_id).topics] == [late.id]
    # and a new damaged-item message counts for the merged topic
    [message_id] = send_and_enrich(
        db_session, tenant.org_id, ["My mirror arrived damaged and broken"], "new"
    )
    assert topics_of_message(db_session, tenant.org_id, message_id) == [late.id]
    # and after relearning, the merge still holds
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    # (the relearnt damaged-item topic is still merged, so its texts count for the merged one)
    assert db_session.get(TextTopic, damaged.id).merged_into_id == late.id
    themes = two_themes(PER_THEME, seed=11)[1]
    for sent_id, theme in zip([*themed, message_id], [*themes, "damaged"], strict=True):
        if theme == "damaged":
            assert late.id in topics_of_message(db_session, tenant.org_id, sent_id)
    assert damaged.id not in [t.id for t in explore(db_session, tenant.org_id).topics]


def test_a_rename_survives_relearning_on_more_texts(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    late = topic_about(explore(db_session, tenant.org_id), "late")
    # given the manager named the late-delivery topic
    renamed = service.rename_topic(
        db_session,
        org_id=tenant.org_id,
        topic_id=late.id,
        data=TopicRenameIn(name="  Late deliveries "),
    )
    assert (renamed.name, renamed.renamed) == ("Late deliveries", True)
    db_session.commit()
    # when more texts arrive and the topics are learned again
    send_and_enrich(db_session, tenant.org_id, two_themes(15, seed=12)[0], "more")
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    # then the same topic (same id) still has the manager's name and all late texts
    again = next(t for t in explore(db_session, tenant.org_id).topics if t.id == late.id)
    assert again.name == "Late deliveries" and "late" in again.label
    assert again.volume >= PER_THEME + 15
    assert db_session.scalar(select(func.count()).select_from(TextTopic)) == 2


def test_reanalysis_redoes_the_topics_too(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    # when every analysis is redone
    service.reanalyze_texts(db_session, org_id=tenant.org_id)
    report = service.analyze_pending_texts(db_session, org_id=tenant.org_id)
    db_session.commit()
    # then every text was analysed again and has its topic again
    assert report.analyzed == 2 * PER_THEME
    assert explore(db_session, tenant.org_id).with_topic == 2 * PER_THEME


def test_filters_by_source_language_and_period(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    today = utcnow().date()
    # survey comments: none; Polish: no topic of that language; last week: all; long ago: none
    assert explore(db_session, tenant.org_id, source_kind="survey_answer").with_topic == 0
    assert explore(db_session, tenant.org_id, language="pl").topics == []
    recent = explore(db_session, tenant.org_id, since=today - timedelta(days=6), until=today)
    assert recent.with_topic == 2 * PER_THEME and len(recent.weeks) in (1, 2)
    old = explore(
        db_session,
        tenant.org_id,
        since=today - timedelta(days=60),
        until=today - timedelta(days=30),
    )
    assert old.with_topic == 0 and all(t.volume == 0 for t in old.topics)
    with pytest.raises(InvalidInput, match="until"):
        explore(db_session, tenant.org_id, since=today, until=today - timedelta(days=1))


def test_bad_merges_and_other_organizations_topics_change_nothing(
    db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    late = topic_about(explore(db_session, tenant.org_id), "late")
    other = make_tenant(db_session, "globex")
    with pytest.raises(InvalidInput, match="itself"):
        service.merge_topics(
            db_session,
            org_id=tenant.org_id,
            topic_id=late.id,
            data=TopicMergeIn(topic_ids=[late.id]),
        )
    # another organization cannot see, rename or merge this organization's topics
    with pytest.raises(NotFound):
        service.rename_topic(
            db_session, org_id=other.org_id, topic_id=late.id, data=TopicRenameIn(name="Mine")
        )
    with pytest.raises(NotFound):
        service.get_topic(db_session, org_id=other.org_id, topic_id=late.id, filters=TopicFilter())
    assert explore(db_session, other.org_id).topics == []
    db_session.rollback()
    assert not topic_about(explore(db_session, tenant.org_id), "late").renamed


def test_the_api_lists_learns_renames_merges_and_shows_examples(
    client: TestClient, db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    # when topics are learned through the API
    learned = client.post("/api/v1/text/topics/learn", headers=tenant.headers)
    assert learned.status_code == 200 and learned.json()[0]["topic_count"] == 2
    listed = client.get("/api/v1/text/topics", headers=tenant.headers).json()
    late = next(t for t in listed["topics"] if "late" in t["label"])
    damaged = next(t for t in listed["topics"] if "damaged" in t["label"])
    # then a topic's detail gives example texts, the messages themselves
    detail = client.get(f"/api/v1/text/topics/{late['id']}", headers=tenant.headers).json()
    assert 0 < len(detail["examples"]) <= service.TOPIC_EXAMPLES
    assert all("late" in e["text"].lower() for e in detail["examples"])
    texts = [e["text"] for e in detail["examples"]]
    assert len(set(texts)) == len(texts), "a text customers repeat is shown once"
    # and a blank name is refused naming the field, changing nothing
    blank = client.patch(
        f"/api/v1/text/topics/{late['id']}", headers=tenant.headers, json={"name": "   "}
    )
    assert blank.status_code == 422 and "name" in blank.text
    renamed = client.patch(
        f"/api/v1/text/topics/{late['id']}", headers=tenant.headers, json={"name": "Late"}
    )
    assert renamed.json()["name"] == "Late"
    merged = client.post(
        f"/api/v1/text/topics/{late['id']}/merge",
        headers=tenant.headers,
        json={"topic_ids": [damaged["id"]]},
    )
    assert merged.status_code == 200 and merged.json()["volume"] == 2 * PER_THEME
    # and a merged topic is gone from the API as its own topic
    gone = client.get(f"/api/v1/text/topics/{damaged['id']}", headers=tenant.headers)
    assert gone.status_code == 404
    bad_period = client.get(
        "/api/v1/text/topics",
        headers=tenant.headers,
        params={"since": "2026-02-01", "until": "2026-01-01"},
    )
    assert bad_period.status_code == 422 and "until" in bad_period.text


def test_the_explorer_page_renames_and_merges_for_managers_only(
    client: TestClient, db_session: Session, tenant: Tenant, themed: list[int]
) -> None:
    from opencx.auth import service as auth
    from opencx.auth.models import Role
    from tests.conftest import PASSWORD

    service.learn_organization_topics(db_session, org_id=tenant.org_id)
    db_session.commit()
    late = topic_about(explore(db_session, tenant.org_id), "late")
    login(client, tenant.admin_email)
    page = client.get("/insights/topics")
    assert page.status_code == 200 and late.name in page.text and "Merge" in page.text
    # when the manager renames through the page's HTMX form
    renamed = client.post(
        f"/insights/topics/{late.id}/rename",
        data={"csrf_token": csrf(page.text), "name": "Late deliveries", "period": "4"},
        headers={"HX-Request": "true", "HX-Target": "topic-list"},
    )
    # then the list fragment comes back with the new name, for the same period
    assert renamed.status_code == 200 and "Late deliveries" in renamed.text
    assert "<html" not in renamed.text and 'name="period" value="4"' in renamed.text
    examples = client.get(f"/insights/topics/{late.id}/examples")
    assert examples.status_code == 200 and examples.text.count("<li>") > 0
    # and an agent sees the topics but cannot rename them
    auth.create_user(
        db_session,
        org_id=tenant.org_id,
        email="agent@acme.example",
        name="Agent",
        role=Role.agent,
        password=PASSWORD,
    )
    db_session.commit()
    client.cookies.clear()
    login(client, "agent@acme.example")
    agent_page = client.get("/insights/topics")
    assert "Late deliveries" in agent_page.text and "Save name" not in agent_page.text
    refused = client.post(
        f"/insights/topics/{late.id}/rename",
        data={"csrf_token": csrf(agent_page.text), "name": "Mine"},
    )
    assert refused.status_code == 403
