"""The store on SQLite and on PostgreSQL: orders, timeline, pipelines, customers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from activities.orders import OrderActivities
from automation.contracts import SaveOrderInput
from automation.pipeline import Pipeline
from automation.state import TimelineEntry
from store.database import session
from store.directory import customer_values
from store.orders import list_orders, read_timeline
from store.pipelines import get_pipeline, save_pipeline
from store.tables import CustomerEmail, LogLine, Order
from store.tables_shipments import DeletedOrder
from tests.helpers import new_order

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _entry(seq: int) -> TimelineEntry:
    return TimelineEntry(seq=seq, at=NOW, kind="event_received", stage="new", message=f"entry {seq}")


async def test_saving_an_order_twice_writes_each_timeline_entry_once(any_engine: AsyncEngine) -> None:
    order = new_order()
    activities = OrderActivities(any_engine)
    first = SaveOrderInput(order=order, stage="new", responsible_id="emp-sales", fields=order.fields,
                           variables={}, entries=[_entry(1), _entry(2)], save_customer=True)  # fmt: skip
    await activities.save_order(first)
    await activities.save_order(first)  # a retried activity
    await activities.save_order(first.model_copy(update={"stage": "paid", "entries": [_entry(2), _entry(3)]}))

    async with session(any_engine) as db:
        timeline = await read_timeline(db, order.order_id)
        [stored] = await list_orders(db, stage="paid")
        customer = await customer_values(db, order.customer.id)  # type: ignore[union-attr]
        emails = list(await db.exec(select(CustomerEmail)))
    assert [e.seq for e in timeline] == [1, 2, 3]
    assert (stored.id, stored.responsible_id, stored.fields["total"]) == (order.order_id, "emp-sales", 120.5)
    assert customer["name"] == "Ada Lovelace"
    assert customer["email"] == order.customer.emails[0].value  # type: ignore[union-attr]
    assert len(emails) == 1


async def test_a_store_write_after_the_orders_deletion_saves_its_timeline_and_not_its_row(
    any_engine: AsyncEngine,
) -> None:
    """A write the order made before it learnt of its deletion, landing after it, or its
    last write: the row stays deleted, the entries are kept (their writer is the latest)."""
    order = new_order()
    activities = OrderActivities(any_engine)
    save = SaveOrderInput(order=order, stage="new", responsible_id=None, fields={}, variables={},
                          entries=[_entry(1)], save_customer=True)  # fmt: skip
    await activities.save_order(save)
    async with session(any_engine) as db:  # what Delete order commits
        await db.exec(delete(Order).where(col(Order.id) == order.order_id))
        db.add(DeletedOrder(order_id=order.order_id, run_key=f"{order.order_id}/1/0"))
        await db.commit()

    await activities.save_order(save.model_copy(update={"entries": [_entry(2), _entry(3)], "history_length": 9}))

    async with session(any_engine) as db:
        assert await db.get(Order, order.order_id) is None
        assert [e.seq for e in await read_timeline(db, order.order_id)] == [1, 2, 3]


async def test_a_store_write_answers_the_newest_version_of_the_orders_pipeline(
    any_engine: AsyncEngine, example_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in the write's transaction when the worker does not know it (the order then
    enters its next stage without a version check); None for a pipeline not in the store."""
    monkeypatch.setattr("store.pipelines.NEWEST_KNOWN_FOR", -1.0)  # nothing is known: each save reads
    activities = OrderActivities(any_engine)
    order = new_order(example_pipeline.id)
    save = SaveOrderInput(order=order, stage="new", responsible_id=None, fields={}, variables={},
                          entries=[_entry(1)], save_customer=True)  # fmt: skip
    assert await activities.save_order(save) is None
    async with session(any_engine) as db:
        await save_pipeline(db, example_pipeline)
        await save_pipeline(db, example_pipeline.model_copy(update={"title": "Renamed"}))
        await db.commit()
    assert await activities.save_order(save.model_copy(update={"entries": [_entry(2)]})) == 2


async def test_a_pipeline_round_trips_through_the_store(any_engine: AsyncEngine, example_pipeline: Pipeline) -> None:
    async with session(any_engine) as db:
        stored = await save_pipeline(db, example_pipeline)
        await db.commit()
        again = await save_pipeline(db, example_pipeline)
        await db.commit()
        loaded = await get_pipeline(db, example_pipeline.id)
    assert loaded == example_pipeline
    assert (again.new, again.version.number, again.record.version) == (False, 1, stored.record.version)


async def test_insert_once_tells_whether_it_inserted(any_engine: AsyncEngine) -> None:
    from store.database import insert_once
    from store.tables import Comment

    async with session(any_engine) as db:
        first = await insert_once(db, Comment(run_key="k/1", order_id="O", text="a"), "run_key")
        again = await insert_once(db, Comment(run_key="k/1", order_id="O", text="b"), "run_key")
        await db.commit()
        texts = list(await db.exec(select(Comment.text)))
    assert (first, again, texts) == (True, False, ["a"])


async def test_a_discarded_workflow_task_is_put_right_by_the_task_that_replaces_it(any_engine: AsyncEngine) -> None:
    """Timeline rows a discarded task wrote (from its local activity) are replaced by the
    accepted task at a history as long or longer, and the ones past its last are removed;
    a late write of an older task, or of the run before a hand-over, changes nothing."""
    order = new_order()
    activities = OrderActivities(any_engine)

    def save(entries: list[TimelineEntry], run: tuple[int, str], length: int, stage: str = "new") -> SaveOrderInput:
        return SaveOrderInput(order=order, stage=stage, responsible_id=None, fields={}, variables={},
                              entries=entries, run_number=run[0], run_id=run[1], history_length=length)  # fmt: skip

    def entries(seqs: range, message: str) -> list[TimelineEntry]:
        return [_entry(seq).model_copy(update={"message": f"{message} {seq}"}) for seq in seqs]

    async def stored() -> tuple[list[str], Any]:
        async with session(any_engine) as db:
            return [e.message for e in await read_timeline(db, order.order_id)], (await list_orders(db))[0]

    first, second, reset = (1, "run-a"), (2, "run-b"), (2, "run-c")
    await activities.save_order(save(entries(range(1, 3), "accepted"), first, 5))
    await activities.save_order(save(entries(range(3, 7), "discarded"), first, 9, stage="paid"))
    await activities.save_order(save(entries(range(3, 5), "accepted"), first, 9))  # same length: it replaces
    await activities.save_order(save(entries(range(3, 9), "stale"), first, 7, stage="paid"))  # an older task, late
    messages, row = await stored()
    assert messages == ["accepted 1", "accepted 2", "accepted 3", "accepted 4"]
    assert (row.stage, row.history_length) == ("new", 9)

    await activities.save_order(save(entries(range(5, 7), "next run"), second, 3, stage="paid"))  # continue-as-new
    await activities.save_order(save(entries(range(4, 5), "late"), first, 12, stage="new"))  # the run before, late
    messages, row = await stored()
    assert messages[3:] == ["accepted 4", "next run 5", "next run 6"]
    assert (row.stage, row.run_id) == ("paid", "run-b")

    await activities.save_order(save(entries(range(5, 6), "after a reset"), reset, 2, stage="new"))
    messages, row = await stored()
    assert messages[4:] == ["after a reset 5"]
    assert (row.stage, row.run_id) == ("new", "run-c")


async def test_a_transaction_that_reads_then_writes_waits_for_another_writer(any_engine: AsyncEngine) -> None:
    """Two writers at once, one of them reading first (as the API's order creation and the
    worker's store writes do): on SQLite, a transaction that began reading cannot take the
    write lock once another wrote meanwhile ("database is locked" at once, whatever the busy
    timeout) unless it took the lock when it began. Both commit, one after the other."""
    first, second = new_order(), new_order()

    async def read_then_write() -> None:
        async with session(any_engine) as db:
            await db.exec(select(LogLine))  # the transaction begins, reading
            await asyncio.sleep(0.3)  # meanwhile the other writes and commits
            db.add(LogLine(run_key=f"{first.order_id}/1/0", order_id=first.order_id, level="info", message="a"))
            await db.commit()

    async def write() -> None:
        await asyncio.sleep(0.1)
        async with session(any_engine) as db:
            db.add(LogLine(run_key=f"{second.order_id}/1/0", order_id=second.order_id, level="info", message="b"))
            await db.commit()

    await asyncio.gather(read_then_write(), write())
    async with session(any_engine) as db:
        owners = {row.order_id for row in await db.exec(select(LogLine))}
    assert {first.order_id, second.order_id} <= owners
