"""Stat counters: the help desk's anonymous figures, one counter per day, event, language and
key (topic, guide, calculator kind), spread over a few shards; no user id, no question text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "event", "lang", "key", "shard", name=op.f("pk_stat_counters")
        ),
    )


def downgrade() -> None:
    op.drop_table("stat_counters")
