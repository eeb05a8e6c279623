"""What the text analytics API and pages show: stored analyses, learned sentiment models, topics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from opencx.db import RowId
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
    topic_models: list[TopicModelOut] = Field(default_factory=list)


class TopicFilter(BaseModel):
    """Which texts the topic explorer counts: a period (by when the text was written), a
    language and a source."""

    since: date | None = None
    until: date | None = Field(default=None, description="inclusive")
    language: str | None = Field(default=None, max_length=8)
    source_kind: TextSourceKind | None = None


class TopicOut(BaseModel):
    """A topic with its volume, weekly trend and sentiment among the filtered texts."""

    id: int
    name: str = Field(description="the manager's name, else its top phrases")
    label: str = Field(description="its top phrases, as learned")
    renamed: bool
    languages: list[str]
    phrases: list[str] = Field(description="its strongest phrases, as customers write them")
    volume: int
    negative_share: float | None
    positive_share: float | None
    weekly: list[int] = Field(description="texts per week, one per TopicExplorer.weeks")
    merged_topic_ids: list[int] = Field(description="topics merged into this one")
    retired: bool = Field(description="not found by the last learning; keeps its texts")


class TopicExplorer(BaseModel):
    topics: list[TopicOut]
    weeks: list[date] = Field(description="the Monday of each week of the trend")
    with_topic: int = Field(description="texts in the filter with at least one topic")
    languages: list[str] = Field(description="languages with a learned topic vocabulary")
    learned_at: datetime | None


class TopicExample(BaseModel):
    source_kind: TextSourceKind
    source_id: int
    field: str
    text: str
    language: str | None
    sentiment: str | None
    weight: float
    occurred_at: datetime


class TopicDetail(BaseModel):
    topic: TopicOut
    examples: list[TopicExample]


class TopicRenameIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="empty is refused")

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name is blank")
        return value


class TopicMergeIn(BaseModel):
    topic_ids: list[RowId] = Field(
        min_length=1, max_length=100, description="the topics merged into this one"
    )


class TopicModelOut(BaseModel):
    """One language's last topic learning."""

    model_config = ConfigDict(from_attributes=True)

    language: str
    text_count: int
    topic_count: int
    trained_at: datetime


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
