"""The outbox says which attempt of a rule is sending a message (``claim``), so that a
later attempt may take over one that was not handed over yet.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sent_messages") as batch_op:
        batch_op.add_column(sa.Column("claim", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sent_messages") as batch_op:
        batch_op.drop_column("claim")
