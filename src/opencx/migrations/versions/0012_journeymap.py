"""journeys: UX task definitions

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import opencx.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_tasks",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_event", sa.String(length=100), nullable=False),
        sa.Column("success_event", sa.String(length=100), nullable=False),
        sa.Column("error_events", sa.JSON(), nullable=False),
        sa.Column("abandon_after_seconds", sa.Integer(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", opencx.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "name", name="uq_journey_task_name"),
    )
    with op.batch_alter_table("journey_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journey_tasks_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("journey_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_tasks_org_id"))
    op.drop_table("journey_tasks")
