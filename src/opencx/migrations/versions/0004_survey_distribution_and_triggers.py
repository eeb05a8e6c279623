"""surveys: email sending with retries, reminders, periodic and public-link surveys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import opencx.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "public_link_enabled", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_unique_constraint("uq_surveys_public_token", ["public_token"])

    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.alter_column("customer_id", existing_type=BIG_ID, nullable=True)
        batch_op.add_column(
            sa.Column(
                "send_status",
                sa.Enum(
                    "queued",
                    "sending",
                    "sent",
                    "failed",
                    name="emailsendstatus",
                    native_enum=False,
                    length=10,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("send_error", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("next_send_at", opencx.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reminded_at", opencx.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_survey_invitations_org_send",
            ["org_id", "send_status", "next_send_at"],
            unique=False,
        )
    # Invitations emailed before this revision were sent inside the request.
    op.execute("UPDATE survey_invitations SET send_status = 'sent' WHERE sent_at IS NOT NULL")


def downgrade() -> None:
    # Anonymous (public-link) invitations have no customer; they cannot exist before this revision.
    op.execute("DELETE FROM survey_invitations WHERE customer_id IS NULL")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_org_send")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("next_send_at")
        batch_op.drop_column("send_error")
        batch_op.drop_column("send_attempts")
        batch_op.drop_column("send_status")
        batch_op.alter_column("customer_id", existing_type=BIG_ID, nullable=False)

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_constraint("uq_surveys_public_token", type_="unique")
        batch_op.drop_column("public_link_enabled")
        batch_op.drop_column("public_token")
        batch_op.drop_column("period_days")
