"""What the text analytics API and pages show: stored analyses and learned sentiment models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from opencx.textanalytics.models import AnalysisStatus, TextSourceKind


class TextAnalysisOut(BaseModel):
    """The analysis of one text field; `status` failed means it is being retried."""

    model_config = ConfigDict(from_attributes=True)

    source_kind: TextSourceKind
    source_id: int
    field: str
    status: AnalysisStatus
    attempts: int
    error: str | None
    language: str | None
    language_confidence: float | None
    sentiment: str | None
    sentiment_score: float | None
    emotions: dict[str, Any]
    model: str | None
    analyzed_at: datetime | None


class Quality(BaseModel):
    accuracy: float
    macro_f1: float


class SentimentModelOut(BaseModel):
    """One language's last learning run: example counts, both measured qualities, the choice."""

    language: str
    identifier: str | None
    counts: dict[str, int]
    default: Quality | None = Field(description="the default model, on the same held-out folds")
    learned: Quality | None = Field(description="the learned model, cross-validated")
    chosen: bool = Field(description="the learned model scores this language's texts")
    reason: str
    trained_at: datetime


class EnrichmentReport(BaseModel):
    """What one enrichment round did and what is left."""

    analyzed: int = 0
    failed: int = 0
    removed: int = 0
    pending: int = 0


class ReanalysisReport(BaseModel):
    marked: int


class TextAnalyticsOverview(BaseModel):
    """What the CX manager sees: both models' quality per language and enrichment progress."""

    models: list[SentimentModelOut]
    last_trained_at: datetime | None
    analysed: int
    failed: int
    min_per_class: int
    margin: float


class EmotionLevel(BaseModel):
    name: str
    probability: float


class TextFeeling(BaseModel):
    """What one message or response shows: its sentiment and its strongest emotions.

    A response with several answers is `mixed` when they disagree; its score is their mean.
    """

    sentiment: str = Field(description="negative, neutral, positive, or mixed")
    sentiment_score: float
    emotions: list[EmotionLevel] = Field(description="strongest first, only those present")
    texts: int = Field(description="analysed text fields behind it")


class FeelingSummary(BaseModel):
    """The sentiment and emotions of a customer's most recent analysed texts."""

    texts: int
    negative: int
    neutral: int
    positive: int
    mean_score: float
    emotions: list[EmotionLevel] = Field(description="mean probability, strongest first")


class TextFeelings(BaseModel):
    """Feelings by message id and by survey response id, and a summary of the most recent."""

    messages: dict[int, TextFeeling] = Field(default_factory=dict)
    comments: dict[int, TextFeeling] = Field(default_factory=dict)
    recent: FeelingSummary | None = None
