"""Announcements: the users' "News about procedure changes" opt-in, the announcements and one
delivery per announcement and opted-in user, claimed and sent like reminders.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("news", sa.String(length=8), nullable=True))
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("text_en", sa.String(), nullable=False),
        sa.Column("text_zh", sa.String(), nullable=False),
        sa.Column("button", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("key", name=op.f("uq_announcements_key")),
    )
    op.create_table(
        "announcement_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_deliveries_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_announcement_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_deliveries")),
        sa.UniqueConstraint(
            "announcement_id", "user_id", name=op.f("uq_announcement_deliveries_announcement_id")
        ),
    )
    op.create_index(
        op.f("ix_announcement_deliveries_announcement_id"),
        "announcement_deliveries",
        ["announcement_id"],
    )
    op.create_index(
        op.f("ix_announcement_deliveries_user_id"), "announcement_deliveries", ["user_id"]
    )
    op.create_index(
        "ix_announcement_deliveries_status_send_at",
        "announcement_deliveries",
        ["status", "send_at"],
    )


def downgrade() -> None:
    op.drop_table("announcement_deliveries")
    op.drop_table("announcements")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("news")
