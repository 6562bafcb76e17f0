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
from automation.order import NewOrder
from automation.pipeline import Pipeline
from automation.state import TimelineEntry
from store.columns import utcnow
from store.database import insert_once
from store.directory import save_customer
from store.tables import Order, PipelineRecord, Shipment, TimelineRecord
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
    """Which workflow run writes a row (its number in the order's chain of runs, and its
    id), at which length of its history.

    The workflow writes its row and timeline from a local activity, which runs before its
    workflow task is accepted: a task the server discards (an update it dropped, a task
    that timed out) may have written entries that history never took, under sequence
    numbers that the task replacing it fills with other entries. So the later writer
    wins: a row is replaced by a later run of the chain (continue-as-new), by another run
    of the same number (a reset of it), or by the same run at a history at least as long;
    never by an earlier one (a write of the run before, finishing late after the hand-over).
    Entries past the last one a write brings are removed: no accepted task wrote them."""

    run_number: int
    run_id: str
    history_length: int

    def may_replace(self, table: Any) -> Any:
        """SQL: this writer may replace (or remove) the row of ``table``."""
        same_run = and_(
            table.c.run_number == self.run_number,
            or_(table.c.run_id != self.run_id, table.c.history_length <= self.history_length),
        )
        return or_(table.c.run_number.is_(None), table.c.run_number < self.run_number, same_run)

    def columns(self) -> dict[str, Any]:
        return {"run_number": self.run_number, "run_id": self.run_id, "history_length": self.history_length}


def _insert(db: AsyncSession) -> Any:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


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
    """Writes the order's row, in one statement that also says whether this writer may
    (``WrittenBy``); False, and nothing written, if a later writer has written it: then
    its timeline must not be written either. Without ``written_by`` (an order the API
    registers before its workflow starts) the row is only written if there is none."""
    # A deletion committed before shows here: the row it deleted is not brought back (the
    # last timeline entries still are saved).
    if await db.get(DeletedOrder, order_id) is not None:
        return True
    table: Any = Order.__table__  # type: ignore[attr-defined]
    now = utcnow()
    row = {
        "id": order_id, "pipeline_id": pipeline_id, "stage": stage, "customer_id": customer_id,
        "responsible_id": responsible_id, "fields": fields, "variables": variables, "created_at": now,
        "updated_at": now, **(written_by.columns() if written_by else {}),
    }  # fmt: skip
    statement = _insert(db)(table).values(row)
    if written_by is None:
        await db.exec(statement.on_conflict_do_nothing(index_elements=["id"]))
        return True
    changed = {name: statement.excluded[name] for name in row if name not in ("id", "pipeline_id", "created_at")}
    upsert = statement.on_conflict_do_update(
        index_elements=["id"], set_=changed, where=written_by.may_replace(table)
    ).returning(table.c.id)
    result: Any = await db.exec(upsert)
    return result.first() is not None


_BATCH = 500
"""Timeline rows per INSERT (SQLite takes at most 32,766 values in one statement)."""


async def save_timeline(
    db: AsyncSession, order_id: str, entries: Sequence[TimelineEntry], written_by: WrittenBy
) -> None:
    """Writes the entries (see ``WrittenBy``: a later writer wins) and removes any entry
    after the last of them that an older writer left."""
    table: Any = TimelineRecord.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "order_id": order_id, "seq": entry.seq, "at": entry.at, "kind": entry.kind, "stage": entry.stage,
            "message": entry.message, "data": entry.data, **written_by.columns(),
        }
        for entry in entries
    ]  # fmt: skip
    for start in range(0, len(rows), _BATCH):
        statement = _insert(db)(table).values(rows[start : start + _BATCH])
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


async def register_order(db: AsyncSession, order: NewOrder, first_stage: str) -> bool:
    """An order as it arrives, before its workflow starts (the API does it, so that the
    store knows the order, and its customer's card, by the time it is reported created):
    its row, and if that is new, its customer's card and shipments. False if it existed."""
    table: Any = Order.__table__  # type: ignore[attr-defined]
    now = utcnow()
    row = {
        "id": order.order_id, "pipeline_id": order.pipeline_id, "stage": first_stage,
        "customer_id": order.customer.id if order.customer else None, "responsible_id": order.responsible_id,
        "fields": order.fields, "variables": {}, "created_at": now, "updated_at": now,
    }  # fmt: skip
    inserted: Any = await db.exec(
        _insert(db)(table).values(row).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    )
    if inserted.first() is None:
        return False
    await save_arrival(db, order)
    return True


async def save_arrival(db: AsyncSession, order: NewOrder) -> None:
    """What the order arrived with: its customer's card and its shipments."""
    if order.customer is not None:
        await save_customer(db, order.customer)
    for shipment in order.shipments:
        await insert_once(db, Shipment(order_id=order.order_id, **shipment.model_dump()), "order_id", "id")


async def open_orders(db: AsyncSession, customer_ids: Sequence[str]) -> list[str]:
    """The customers' orders that are not in a final stage (nor deleted), oldest first."""
    if not customer_ids:
        return []
    rows = list(
        await db.exec(
            select(Order.id, Order.pipeline_id, Order.stage)
            .where(col(Order.customer_id).in_(customer_ids))
            .order_by(col(Order.created_at))
        )
    )
    finals = {}
    for pipeline_id in {pipeline_id for _, pipeline_id, _ in rows}:
        record = await db.get(PipelineRecord, pipeline_id)
        stages = record.definition.get("stages", []) if record else []
        finals[pipeline_id] = {stage["id"] for stage in stages if stage.get("final")}
    return [order_id for order_id, pipeline_id, stage in rows if stage not in finals[pipeline_id]]
