"""Orders, their timeline and pipelines in the store."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.models import INSIDE
from automation.pipeline import Pipeline
from automation.state import TimelineEntry
from store.columns import utcnow
from store.tables import Order, PipelineRecord, TimelineRecord
from store.tables_shipments import DeletedOrder


async def save_pipeline(db: AsyncSession, pipeline: Pipeline) -> PipelineRecord:
    """Stores (or replaces) the pipeline; its webhook secret is made once and kept."""
    definition = pipeline.model_dump(mode="json")
    version = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    existing = await db.get(PipelineRecord, pipeline.id)
    record = PipelineRecord(
        id=pipeline.id,
        title=pipeline.title,
        version=version,
        definition=definition,
        loaded_at=utcnow(),
        webhook_secret=existing.webhook_secret if existing else secrets.token_urlsafe(32),
    )
    return await db.merge(record)


async def get_pipeline(db: AsyncSession, pipeline_id: str) -> Pipeline | None:
    record = await db.get(PipelineRecord, pipeline_id)
    return Pipeline.model_validate(record.definition, context=INSIDE) if record else None


@dataclass(frozen=True)
class WrittenBy:
    """Which workflow run writes a row, at which length of its history.

    The workflow writes its row and timeline from a local activity, which runs before its
    workflow task is accepted: a task the server discards (an update it dropped, a task
    that timed out) may have written entries that history never took, under sequence
    numbers that the task replacing it fills with other entries. So the later writer
    wins: a row is overwritten by a write of another run (a reset, or the next run after
    continue-as-new) or of the same run at a history at least as long, and never by an
    older one; and entries past the last one a write brings are removed, since no
    accepted task wrote them."""

    run_id: str
    history_length: int

    def may_replace(self, table: Any) -> Any:
        """SQL: this writer may replace (or remove) the row of ``table``."""
        return or_(
            table.c.run_id.is_(None),
            table.c.run_id != self.run_id,
            table.c.history_length <= self.history_length,
        )


async def save_order(
    db: AsyncSession,
    order_id: str,
    *,
    pipeline_id: str,
    stage: str,
    customer_id: str | None,
    responsible_id: str | None,
    fields: dict[str, Any],
    variables: dict[str, Any],
    written_by: WrittenBy | None = None,
) -> bool:
    """Writes the order's row; False (and nothing written) if a later writer has written it
    already (see ``WrittenBy``): then its timeline must not be written either."""
    order = await db.get(Order, order_id, with_for_update=True)  # PostgreSQL: writers of one order queue up
    if order is not None and written_by is not None and not _may_replace(order, written_by):
        return False
    # Read after the order: a deletion committed in between shows here, and the row it
    # deleted is not brought back (its last timeline entries are still saved).
    if await db.get(DeletedOrder, order_id) is not None:
        return True
    order = order or Order(id=order_id, pipeline_id=pipeline_id, stage=stage)
    order.stage, order.customer_id, order.responsible_id = stage, customer_id, responsible_id
    order.fields, order.variables, order.updated_at = fields, variables, utcnow()
    if written_by is not None:
        order.run_id, order.history_length = written_by.run_id, written_by.history_length
    db.add(order)
    return True


def _may_replace(order: Order, written_by: WrittenBy) -> bool:
    return (
        order.run_id is None
        or order.run_id != written_by.run_id
        or (order.history_length or 0) <= written_by.history_length
    )


_BATCH = 500
"""Timeline rows per INSERT (SQLite takes at most 32,766 values in one statement)."""


async def save_timeline(
    db: AsyncSession, order_id: str, entries: Sequence[TimelineEntry], written_by: WrittenBy
) -> None:
    """Writes the entries (see ``WrittenBy``: a later writer wins) and removes any entry
    after the last of them that an older writer left."""
    table: Any = TimelineRecord.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [
        {
            "order_id": order_id, "seq": entry.seq, "at": entry.at, "kind": entry.kind, "stage": entry.stage,
            "message": entry.message, "data": entry.data,
            "run_id": written_by.run_id, "history_length": written_by.history_length,
        }
        for entry in entries
    ]  # fmt: skip
    for start in range(0, len(rows), _BATCH):
        statement = insert(table).values(rows[start : start + _BATCH])
        replaced = {name: statement.excluded[name] for name in rows[0] if name not in ("order_id", "seq")}
        await db.exec(
            statement.on_conflict_do_update(
                index_elements=["order_id", "seq"],
                set_=replaced,
                where=written_by.may_replace(table),
            )
        )
    if entries:
        after = and_(table.c.order_id == order_id, table.c.seq > entries[-1].seq)
        await db.exec(delete(table).where(after, written_by.may_replace(table)))


async def read_timeline(db: AsyncSession, order_id: str) -> list[TimelineRecord]:
    rows = await db.exec(
        select(TimelineRecord).where(TimelineRecord.order_id == order_id).order_by(col(TimelineRecord.seq))
    )
    return list(rows)


async def list_orders(db: AsyncSession, *, stage: str | None = None, pipeline_id: str | None = None) -> list[Order]:
    query = select(Order).order_by(col(Order.created_at))
    if stage is not None:
        query = query.where(Order.stage == stage)
    if pipeline_id is not None:
        query = query.where(Order.pipeline_id == pipeline_id)
    return list(await db.exec(query))
