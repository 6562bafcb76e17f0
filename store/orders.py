"""Orders, their timeline and pipelines in the store."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.models import INSIDE
from automation.pipeline import Pipeline
from automation.state import TimelineEntry
from store.columns import utcnow
from store.database import insert_once
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
) -> None:
    order = await db.get(Order, order_id)
    # Read after the order: a deletion committed in between shows here, and the row it
    # deleted is not brought back (its last timeline entries are still saved).
    if await db.get(DeletedOrder, order_id) is not None:
        return
    order = order or Order(id=order_id, pipeline_id=pipeline_id, stage=stage)
    order.stage, order.customer_id, order.responsible_id = stage, customer_id, responsible_id
    order.fields, order.variables, order.updated_at = fields, variables, utcnow()
    db.add(order)


async def save_timeline(db: AsyncSession, order_id: str, entries: Sequence[TimelineEntry]) -> None:
    for entry in entries:
        row = TimelineRecord(order_id=order_id, **entry.model_dump(mode="json", exclude={"at"}), at=entry.at)
        await insert_once(db, row, "order_id", "seq")


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
