"""REST API of text analytics: stored analyses, learned sentiment models, topics, reanalysis."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId
from opencx.textanalytics import service
from opencx.textanalytics.models import TextSourceKind
from opencx.textanalytics.schemas import (
    ReanalysisReport,
    SentimentModelOut,
    TextAnalysisOut,
    TopicDetail,
    TopicExplorer,
    TopicFilter,
    TopicMergeIn,
    TopicModelOut,
    TopicOut,
    TopicRenameIn,
)

router = APIRouter(prefix="/api/v1/text", tags=["text analytics"])


@router.get("/analyses", response_model=list[TextAnalysisOut])
def list_text_analyses(
    principal: ApiPrincipal,
    db: DbSession,
    source_kind: TextSourceKind,
    source_id: Annotated[list[RowId], Query(min_length=1, max_length=500)],
) -> list[TextAnalysisOut]:
    """Language, sentiment and emotions of messages or survey answers, by their ids."""
    return service.list_text_analyses(
        db, org_id=principal.org_id, source_kind=source_kind, source_ids=source_id
    )


@router.get("/sentiment-models", response_model=list[SentimentModelOut])
def list_sentiment_models(principal: ApiPrincipal, db: DbSession) -> list[SentimentModelOut]:
    """Per language: the last learning run, its example counts and both measured qualities."""
    return service.list_sentiment_models(db, org_id=principal.org_id)


@router.post("/sentiment-models/train", response_model=list[SentimentModelOut])
def train_sentiment_models(principal: ApiPrincipal, db: DbSession) -> list[SentimentModelOut]:
    """Learn sentiment from the organization's rated survey comments now."""
    return service.train_organization_sentiment(db, org_id=principal.org_id)


@router.post("/reanalyze", response_model=ReanalysisReport)
def reanalyze_texts(principal: ApiPrincipal, db: DbSession) -> ReanalysisReport:
    """Mark every stored analysis stale; the background job redoes them."""
    return service.reanalyze_texts(db, org_id=principal.org_id)


def topic_filter(
    since: date | None = None,
    until: date | None = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    source_kind: TextSourceKind | None = None,
) -> TopicFilter:
    """The explorer's filters from the query string (period by when the text was written)."""
    return TopicFilter(since=since, until=until, language=language, source_kind=source_kind)


TopicFilters = Annotated[TopicFilter, Depends(topic_filter)]


@router.get("/topics", response_model=TopicExplorer)
def list_topics(principal: ApiPrincipal, db: DbSession, filters: TopicFilters) -> TopicExplorer:
    """Topics with volume, weekly trend and sentiment share among the filtered texts."""
    return service.list_topics(db, org_id=principal.org_id, filters=filters)


@router.post("/topics/learn", response_model=list[TopicModelOut])
def learn_topics(principal: ApiPrincipal, db: DbSession) -> list[TopicModelOut]:
    """Learn the organization's topics from its analysed texts now and assign them."""
    return service.learn_organization_topics(db, org_id=principal.org_id)


@router.get("/topics/{topic_id}", response_model=TopicDetail)
def get_topic(
    principal: ApiPrincipal, db: DbSession, topic_id: RowId, filters: TopicFilters
) -> TopicDetail:
    """A topic with its figures and example texts."""
    return service.get_topic(db, org_id=principal.org_id, topic_id=topic_id, filters=filters)


@router.patch("/topics/{topic_id}", response_model=TopicOut)
def rename_topic(
    principal: ApiPrincipal, db: DbSession, topic_id: RowId, data: TopicRenameIn
) -> TopicOut:
    """Name a topic; the name stays while relearning still finds the topic."""
    return service.rename_topic(db, org_id=principal.org_id, topic_id=topic_id, data=data)


@router.post("/topics/{topic_id}/merge", response_model=TopicOut)
def merge_topics(
    principal: ApiPrincipal, db: DbSession, topic_id: RowId, data: TopicMergeIn
) -> TopicOut:
    """Merge other topics into this one; their texts, now and later, count for it."""
    return service.merge_topics(db, org_id=principal.org_id, topic_id=topic_id, data=data)
