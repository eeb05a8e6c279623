"""text analytics: the eight emotions as columns of text_analyses, for the analytics store

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


def upgrade() -> None:
    with op.batch_alter_table("text_analyses", schema=None) as batch_op:
        for name in EMOTIONS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    # Back-fill from the JSON dict the analyses already hold (the same on SQLite and PostgreSQL).
    analyses = sa.table(
        "text_analyses",
        sa.column("id", sa.BigInteger()),
        sa.column("emotions", sa.JSON()),
        *(sa.column(name, sa.Float()) for name in EMOTIONS),
    )
    connection = op.get_bind()
    filled = []
    for row_id, emotions in connection.execute(sa.select(analyses.c.id, analyses.c.emotions)):
        if isinstance(emotions, str):
            emotions = json.loads(emotions)
        values = {name: (emotions or {}).get(name) for name in EMOTIONS}
        if any(value is not None for value in values.values()):
            filled.append({"row_id": row_id, **values})
    if filled:
        connection.execute(
            sa.update(analyses)
            .where(analyses.c.id == sa.bindparam("row_id"))
            .values({name: sa.bindparam(name) for name in EMOTIONS}),
            filled,
        )


def downgrade() -> None:
    with op.batch_alter_table("text_analyses", schema=None) as batch_op:
        for name in reversed(EMOTIONS):
            batch_op.drop_column(name)
