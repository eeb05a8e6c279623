"""Stored text analyses (beside the texts they analyse), their topics, and what each organization
learned: sentiment models and topic vocabularies."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord


class TextSourceKind(enum.StrEnum):
    """Where an analysed text lives: its table is the source's domain's, never ours."""

    conversation_message = "conversation_message"
    survey_answer = "survey_answer"


class AnalysisStatus(enum.StrEnum):
    done = "done"
    failed = "failed"  # retried until MAX_ATTEMPTS; the text itself is untouched


class AnalyzedText(OrgRecord, Base):
    """Language, sentiment and emotions of one text field, keyed by its source."""

    __tablename__ = "text_analyses"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "source_kind", "source_id", "field", name="uq_text_analysis_source"
        ),
    )

    source_kind: Mapped[TextSourceKind] = mapped_column(
        Enum(TextSourceKind, native_enum=False, length=30)
    )
    source_id: Mapped[int] = mapped_column(BigId)
    # the message's "body", or a survey question's key
    field: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the text analysed: a changed text is analysed again
    text_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[AnalysisStatus] = mapped_column(
        Enum(AnalysisStatus, native_enum=False, length=10)
    )
    # set by reanalysis (a model changed): analysed again by the next round
    stale: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    language_confidence: Mapped[float | None] = mapped_column(Float, default=None)
    sentiment: Mapped[str | None] = mapped_column(String(10), default=None)
    sentiment_score: Mapped[float | None] = mapped_column(Float, default=None)
    emotions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The same eight probabilities as columns, so analytics can average them (JSON stays for the API).
    anger: Mapped[float | None] = mapped_column(Float, default=None)
    anticipation: Mapped[float | None] = mapped_column(Float, default=None)
    disgust: Mapped[float | None] = mapped_column(Float, default=None)
    fear: Mapped[float | None] = mapped_column(Float, default=None)
    joy: Mapped[float | None] = mapped_column(Float, default=None)
    sadness: Mapped[float | None] = mapped_column(Float, default=None)
    surprise: Mapped[float | None] = mapped_column(Float, default=None)
    trust: Mapped[float | None] = mapped_column(Float, default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    analyzed_at: Mapped[datetime | None] = mapped_column(default=None)


class OrganizationSentimentModel(OrgRecord, Base):
    """The last learning run of one language: counts, both measured qualities, and the model."""

    __tablename__ = "organization_sentiment_models"
    __table_args__ = (
        UniqueConstraint("org_id", "language", name="uq_organization_sentiment_model_language"),
    )

    language: Mapped[str] = mapped_column(String(8))
    identifier: Mapped[str | None] = mapped_column(String(100), default=None)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    default_accuracy: Mapped[float | None] = mapped_column(Float, default=None)
    default_macro_f1: Mapped[float | None] = mapped_column(Float, default=None)
    learned_accuracy: Mapped[float | None] = mapped_column(Float, default=None)
    learned_macro_f1: Mapped[float | None] = mapped_column(Float, default=None)
    # used for this language's texts only when it beat the default by the margin
    chosen: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    trained_at: Mapped[datetime]
    # the model's files as opencx.text.learning writes them (JSON and npz bytes, never pickle)
    metadata_file: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    vocabulary_file: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    weights_file: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class OrganizationTopicModel(OrgRecord, Base):
    """One language's topic vocabulary statistics (its topics are rows of text_topics)."""

    __tablename__ = "organization_topic_models"
    __table_args__ = (
        UniqueConstraint("org_id", "language", name="uq_organization_topic_model_language"),
    )

    language: Mapped[str] = mapped_column(String(8))
    text_count: Mapped[int] = mapped_column(Integer, default=0)
    topic_count: Mapped[int] = mapped_column(Integer, default=0)
    # opencx.text.topics' JSON vocabulary without its topics: idf, display forms, metadata
    vocabulary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trained_at: Mapped[datetime]


class TextTopic(OrgRecord, Base):
    """A topic of an organization's texts: learned phrases, and the name a manager gave it.

    Relearning updates the phrases of a topic it recognises (same identity, same name); a topic
    no longer found is retired, not deleted. A merged topic keeps its phrases, and the texts it
    finds count for the topic it was merged into.
    """

    __tablename__ = "text_topics"

    language: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(300))  # its top phrases, as learned
    name: Mapped[str | None] = mapped_column(String(200), default=None)  # the manager's
    phrases: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text_count: Mapped[int] = mapped_column(Integer, default=0)  # of the texts it learned from
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("text_topics.id", ondelete="SET NULL"), default=None
    )
    retired: Mapped[bool] = mapped_column(default=False)
    learned_at: Mapped[datetime]


class AnalyzedTextTopic(OrgRecord, Base):
    """A topic of an analysed text, with its weight (cosine to the topic's phrases, 0-1)."""

    __tablename__ = "text_analysis_topics"
    __table_args__ = (UniqueConstraint("analysis_id", "topic_id", name="uq_text_analysis_topic"),)

    analysis_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("text_analyses.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("text_topics.id", ondelete="CASCADE"), index=True
    )
    weight: Mapped[float] = mapped_column(Float)
    # when the text was written (message sent, response submitted): trends are by this
    occurred_at: Mapped[datetime]
