"""Timeline and order rows say which workflow run wrote them (its number in the order's
chain of runs, its id), at which length of its history, so that a row written by a
discarded workflow task is put right by the task that replaces it (see store/orders.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("timeline", "orders")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("run_number", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("run_id", sa.String(), nullable=True))
            batch_op.add_column(sa.Column("history_length", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("history_length")
            batch_op.drop_column("run_id")
            batch_op.drop_column("run_number")
