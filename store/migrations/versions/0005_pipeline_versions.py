"""Pipeline versions: each load with new content is kept, numbered, with what it changed.
A pipeline stored before this revision becomes its version 1.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    versions = op.create_table(
        "pipeline_versions",
        sa.Column("pipeline_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("stage_moves", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"]),
        sa.PrimaryKeyConstraint("pipeline_id", "number"),
    )
    pipelines = sa.table(
        "pipelines", sa.column("id", sa.String()), sa.column("version", sa.String()),
        sa.column("definition", sa.JSON()), sa.column("loaded_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    stored = op.get_bind().execute(sa.select(pipelines)).mappings().all()
    op.bulk_insert(versions, [
        {"pipeline_id": row["id"], "number": 1, "content_hash": row["version"], "definition": row["definition"],
         "changes": [], "stage_moves": {}, "loaded_at": row["loaded_at"], "loaded_by": "unknown",
         "source": "stored before versions were kept"}
        for row in stored
    ])  # fmt: skip


def downgrade() -> None:
    op.drop_table("pipeline_versions")
