"""text topics: topic vocabularies per organization, topics, topics of analysed texts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import opencx.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", BIG_ID, nullable=False),
        sa.Column("created_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ]


def upgrade() -> None:
    op.create_table(
        "organization_topic_models",
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text_count", sa.Integer(), nullable=False),
        sa.Column("topic_count", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.JSON(), nullable=False),
        sa.Column("trained_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        *_record_columns(),
        sa.UniqueConstraint("org_id", "language", name="uq_organization_topic_model_language"),
    )
    with op.batch_alter_table("organization_topic_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organization_topic_models_org_id"), ["org_id"], unique=False
        )

    op.create_table(
        "text_topics",
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("phrases", sa.JSON(), nullable=False),
        sa.Column("text_count", sa.Integer(), nullable=False),
        sa.Column("merged_into_id", BIG_ID, nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("learned_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        *_record_columns(),
        sa.ForeignKeyConstraint(["merged_into_id"], ["text_topics.id"], ondelete="SET NULL"),
    )
    with op.batch_alter_table("text_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_topics_org_id"), ["org_id"], unique=False)

    op.create_table(
        "text_analysis_topics",
        sa.Column("analysis_id", BIG_ID, nullable=False),
        sa.Column("topic_id", BIG_ID, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("occurred_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        *_record_columns(),
        sa.ForeignKeyConstraint(["analysis_id"], ["text_analyses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["text_topics.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("analysis_id", "topic_id", name="uq_text_analysis_topic"),
    )
    with op.batch_alter_table("text_analysis_topics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_text_analysis_topics_analysis_id"), ["analysis_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_analysis_topics_org_id"), ["org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_text_analysis_topics_topic_id"), ["topic_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("text_analysis_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_analysis_topics_topic_id"))
        batch_op.drop_index(batch_op.f("ix_text_analysis_topics_org_id"))
        batch_op.drop_index(batch_op.f("ix_text_analysis_topics_analysis_id"))
    op.drop_table("text_analysis_topics")
    with op.batch_alter_table("text_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_topics_org_id"))
    op.drop_table("text_topics")
    with op.batch_alter_table("organization_topic_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_topic_models_org_id"))
    op.drop_table("organization_topic_models")
