"""Orders, their timeline and pipelines in the store."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.order import NewOrder
from automation.state import TimelineEntry
from store.columns import utcnow
from store.database import insert_once
from store.directory import save_customer
from store.tables import Order, PipelineRecord, Shipment, TimelineRecord
from store.tables_shipments import DeletedOrder


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

    def columns(self) -> dict[str, Any]:
        return {"run_number": self.run_number, "run_id": self.run_id, "history_length": self.history_length}


def _may_replace(table: Any) -> Any:
    """SQL: the writer in the statement's ``run_number``, ``run_id`` and ``history_length``
    parameters may replace (or remove) the row of ``table`` (``WrittenBy``)."""
    number: Any = bindparam("run_number")
    run_id: Any = bindparam("run_id")
    length: Any = bindparam("history_length")
    same_run = and_(table.c.run_number == number, or_(table.c.run_id != run_id, table.c.history_length <= length))
    return or_(table.c.run_number.is_(None), table.c.run_number < number, same_run)


def _insert(db: AsyncSession) -> Any:
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert


# The order's own writes follow every workflow task of every order: each statement is built
# once per dialect, with parameters, so that SQLAlchemy compiles it once; it runs on the
# session's connection (Core, not the ORM).
_ORDERS: Any = Order.__table__  # type: ignore[attr-defined]
_TIMELINE: Any = TimelineRecord.__table__  # type: ignore[attr-defined]
_ORDER_COLUMNS = [c.name for c in _ORDERS.columns]
_ENTRY_COLUMNS = [c.name for c in _TIMELINE.columns if c.name != "id"]


def _upsert(dialect: str, table: Any, columns: list[str], key: list[str], kept: set[str], unless: Any = None) -> Any:
    """INSERT of ``columns`` from parameters (none if ``unless`` holds); on a conflict on
    ``key``, the writer replaces all but ``kept`` if it may (``WrittenBy``)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if unless is None:
        statement = insert(table).values({name: bindparam(name) for name in columns})
    else:
        row = select(*(bindparam(name, type_=table.c[name].type) for name in columns)).where(~unless)
        statement = insert(table).from_select(columns, row)
    replaced = {name: statement.excluded[name] for name in columns if name not in kept}
    return statement.on_conflict_do_update(index_elements=key, set_=replaced, where=_may_replace(table))


def _tombstone(parameter: str) -> Any:
    """SQL: the tombstone of the order whose id is the statement's ``parameter``."""
    return select(col(DeletedOrder.order_id)).where(col(DeletedOrder.order_id) == bindparam(parameter))


_DELETED = _tombstone("order_id")


@functools.cache
def _order_upsert(dialect: str) -> Any:
    """The order's row, unless the order was deleted: a deletion committed before shows
    here, and the row it deleted is not brought back."""
    kept = {"id", "pipeline_id", "created_at"}
    upsert = _upsert(dialect, _ORDERS, _ORDER_COLUMNS, ["id"], kept, unless=_tombstone("id").exists())
    return upsert.returning(_ORDERS.c.id)


@functools.cache
def _entry_upsert(dialect: str) -> Any:
    return _upsert(dialect, _TIMELINE, _ENTRY_COLUMNS, ["order_id", "seq"], {"order_id", "seq"})


_LATER_ENTRIES = delete(_TIMELINE).where(
    _TIMELINE.c.order_id == bindparam("order_id"), _TIMELINE.c.seq > bindparam("last_seq"), _may_replace(_TIMELINE)
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
    test: bool = False,
) -> bool:
    """Writes the order's row, in one statement that also says whether this writer may
    (``WrittenBy``); False, and nothing written, if a later writer has written it: then
    its timeline must not be written either. Without ``written_by`` (an order the API
    registers before its workflow starts) the row is only written if there is none."""
    connection = await db.connection()
    now = utcnow()
    row = {
        "id": order_id, "pipeline_id": pipeline_id, "stage": stage, "customer_id": customer_id,
        "responsible_id": responsible_id, "fields": fields, "variables": variables, "created_at": now,
        "updated_at": now, "test": test, **(written_by.columns() if written_by else {}),
    }  # fmt: skip
    if written_by is None:
        if (await connection.execute(_DELETED, {"order_id": order_id})).first() is None:
            await db.exec(_insert(db)(_ORDERS).values(row).on_conflict_do_nothing(index_elements=["id"]))
        return True
    if (await connection.execute(_order_upsert(connection.dialect.name), row)).first() is not None:
        return True
    # Not written: a later writer has, or the order was deleted (its last entries are still saved).
    return (await connection.execute(_DELETED, {"order_id": order_id})).first() is not None


async def save_timeline(
    db: AsyncSession, order_id: str, entries: Sequence[TimelineEntry], written_by: WrittenBy
) -> None:
    """Writes the entries (see ``WrittenBy``: a later writer wins) and removes any entry
    after the last of them that an older writer left."""
    if not entries:
        return
    connection = await db.connection()
    writer = written_by.columns()
    rows = [
        {
            "order_id": order_id, "seq": entry.seq, "at": entry.at, "kind": entry.kind, "stage": entry.stage,
            "message": entry.message, "data": entry.data, **writer,
        }
        for entry in entries
    ]  # fmt: skip
    await connection.execute(_entry_upsert(connection.dialect.name), rows)
    await connection.execute(_LATER_ENTRIES, {"order_id": order_id, "last_seq": entries[-1].seq, **writer})


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
        "fields": order.fields, "variables": {}, "created_at": now, "updated_at": now, "test": order.test,
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
    """The customers' real orders that are not in a final stage (nor deleted), oldest first:
    a test order takes only the events its admin sends it."""
    if not customer_ids:
        return []
    rows = list(
        await db.exec(
            select(Order.id, Order.pipeline_id, Order.stage)
            .where(col(Order.customer_id).in_(customer_ids), col(Order.test).is_(False))
            .order_by(col(Order.created_at))
        )
    )
    finals = {}
    for pipeline_id in {pipeline_id for _, pipeline_id, _ in rows}:
        record = await db.get(PipelineRecord, pipeline_id)
        stages = record.definition.get("stages", []) if record else []
        finals[pipeline_id] = {stage["id"] for stage in stages if stage.get("final")}
    return [order_id for order_id, pipeline_id, stage in rows if stage not in finals[pipeline_id]]


async def customers_of(db: AsyncSession, order_ids: Sequence[str]) -> list[str]:
    """The customers of these orders, each once, sorted."""
    if not order_ids:
        return []
    found = await db.exec(select(Order.customer_id).where(col(Order.id).in_(order_ids)))
    return sorted({customer for customer in found if customer is not None})
