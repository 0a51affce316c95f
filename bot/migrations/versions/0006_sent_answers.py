"""Sent answers: the ids and topics of the latest answer messages a user got, in their
conversation state, so a 👍/👎 reaction on one counts as feedback on its topic.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_states") as batch:
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("conversation_states") as batch:
        batch.drop_column("answers")
