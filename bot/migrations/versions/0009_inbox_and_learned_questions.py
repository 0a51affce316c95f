"""The help desk's inbox and what it teaches the bot: groups of unanswered questions and 👎
answers (`inbox_groups`, `inbox_members`), and the questions staff assigned to a topic or to
out of scope (`learned_questions`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_as", sa.String(length=48), nullable=True),
        sa.Column("handled_by", sa.BigInteger(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_groups")),
    )
    op.create_table(
        "inbox_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=1), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["inbox_groups.id"],
            name=op.f("fk_inbox_members_group_id_inbox_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_members")),
        sa.UniqueConstraint("source", "row_id", name="uq_inbox_members_source_row"),
    )
    op.create_index(op.f("ix_inbox_members_group_id"), "inbox_members", ["group_id"])
    op.create_table(
        "learned_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=600), nullable=False),
        sa.Column("topic", sa.String(length=48), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("learned_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_questions")),
    )
    op.create_index(op.f("ix_learned_questions_topic"), "learned_questions", ["topic"])


def downgrade() -> None:
    op.drop_table("learned_questions")
    op.drop_table("inbox_members")
    op.drop_table("inbox_groups")
