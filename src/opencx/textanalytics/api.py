"""REST API of text analytics: stored analyses, learned sentiment models, reanalysis."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.auth.deps import ApiPrincipal, DbSession
from opencx.db import RowId
from opencx.textanalytics import service
from opencx.textanalytics.models import TextSourceKind
from opencx.textanalytics.schemas import ReanalysisReport, SentimentModelOut, TextAnalysisOut

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
