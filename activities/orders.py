"""The order's own bookkeeping: its pipeline in, its row and timeline out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from automation import limits
from automation.contracts import (
    CONSTANTS_NOW,
    LOAD_PIPELINE,
    SAVE_ORDER,
    START_ORDER,
    START_VERSIONED_ORDER,
    VERSION_AT_ENTRY,
    ConstantsWanted,
    SaveOrderInput,
    StageEntry,
    VersionAtEntry,
)
from automation.models import json_size
from automation.order import NewOrder
from automation.pipeline import Pipeline
from store.constants import set_values
from store.database import session
from store.group_commit import GroupCommit
from store.orders import WrittenBy, save_arrival, save_order, save_timeline
from store.pipelines import (
    get_pipeline,
    known_current,
    known_newest,
    newest_number,
    newest_version,
    remember_newest,
    version_at_entry,
)


class OrderActivities:
    def __init__(self, engine: AsyncEngine, writes: GroupCommit | None = None) -> None:
        self._engine = engine
        self._writes = writes or GroupCommit(engine)
        self._starts: dict[str, VersionAtEntry] = {}
        """By pipeline: what its new orders start with, as last read (versions never change)."""

    @activity.defn(name=LOAD_PIPELINE)
    async def load_pipeline(self, pipeline_id: str) -> Pipeline:
        async with session(self._engine) as db:
            return await self._pipeline(db, pipeline_id)

    @activity.defn(name=START_ORDER)
    async def start_order(self, order: NewOrder) -> Pipeline:
        """The pipeline, and the order's arrival saved: idempotent (a retry saves nothing twice)."""
        async with session(self._engine) as db:
            pipeline = await self._pipeline(db, order.pipeline_id)
            await save_arrival(db, order)
            await db.commit()
        return pipeline

    @activity.defn(name=START_VERSIONED_ORDER)
    async def start_versioned_order(self, order: NewOrder) -> VersionAtEntry:
        """``start_order``, saying which version the pipeline is."""
        async with session(self._engine) as db:
            start = await self._newest_start(db, order.pipeline_id)
            await save_arrival(db, order)
            await db.commit()
        return start

    async def _newest_start(self, db: AsyncSession, pipeline_id: str) -> VersionAtEntry:
        """What a new order of the pipeline starts with: its newest version, read from the
        store again once this worker no longer knows it for the newest (``known_newest``)."""
        known = self._starts.get(pipeline_id)
        if known is not None and known.number == known_newest(pipeline_id):
            return known
        newest = await newest_version(db, pipeline_id)
        if newest is None:  # no version kept: the pipeline as stored, or refused, saying so
            definition = (await self._pipeline(db, pipeline_id)).model_dump(mode="json")
            return VersionAtEntry.taking(None, definition, definition["stages"][0]["id"])
        # The content and the number of one version row: a load in between cannot mix them.
        self._check_size(pipeline_id, newest.definition)
        start = VersionAtEntry.taking(newest.number, newest.definition, newest.definition["stages"][0]["id"])
        remember_newest(pipeline_id, newest.number)
        self._starts[pipeline_id] = start
        return start

    @activity.defn(name=CONSTANTS_NOW)
    async def constants_now(self, wanted: ConstantsWanted) -> dict[str, Any]:
        async with session(self._engine) as db:
            admins = await set_values(db, wanted.pipeline_id)
        return {name: value for name, value in admins.items() if name in wanted.names}

    @activity.defn(name=VERSION_AT_ENTRY)
    async def version_at_entry(self, entry: StageEntry) -> VersionAtEntry:
        if (current := known_current(entry)) is not None:  # most entries: no store read
            return current
        async with session(self._engine) as db:
            found = await version_at_entry(db, entry)
        if found.pipeline is not None:
            self._check_size(entry.pipeline_id, found.pipeline.model_dump(mode="json"))
        return found

    async def _pipeline(self, db: AsyncSession, pipeline_id: str) -> Pipeline:
        pipeline = await get_pipeline(db, pipeline_id)
        if pipeline is None:
            raise ApplicationError(
                f"no pipeline {pipeline_id!r} in the store; load it with `starter.py load-pipeline FILE`",
                type="UnknownPipeline",
                non_retryable=True,
            )
        self._check_size(pipeline_id, pipeline.model_dump(mode="json"))
        return pipeline

    @staticmethod
    def _check_size(pipeline_id: str, definition: dict[str, Any]) -> None:
        size = json_size(definition)
        if size > limits.PIPELINE_BYTES:  # stored before pipelines had a limit: over the budget of an order
            raise ApplicationError(
                f"pipeline {pipeline_id!r} is {size:,} bytes of JSON, too big to run with an order "
                f"(at most {limits.PIPELINE_BYTES:,}); load a smaller one",
                type="PipelineTooLarge",
                non_retryable=True,
            )

    @activity.defn(name=SAVE_ORDER)
    async def save_order(self, input: SaveOrderInput) -> int | None:
        """Idempotent, and put right by a later writer (``WrittenBy``): the row is
        overwritten, timeline entries are keyed by their number. Committed with the other
        orders' writes waiting at the same time (``GroupCommit``). Answers the number of the
        pipeline's newest version (as this worker read it lately, or read in the same
        transaction): an order on that version then enters its next stage without asking."""
        order = input.order
        written_by = WrittenBy(input.run_number, input.run_id, input.history_length)
        newest = known_newest(order.pipeline_id)
        read = False

        async def write(db: AsyncSession) -> None:
            nonlocal newest, read
            if input.save_customer:  # the first save (the API may have saved it already)
                await save_arrival(db, order)
            latest = await save_order(
                db,
                order.order_id,
                pipeline_id=order.pipeline_id,
                stage=input.stage,
                customer_id=order.customer.id if order.customer else None,
                responsible_id=input.responsible_id,
                fields=input.fields,
                variables=input.variables,
                written_by=written_by,
                test=order.test,
            )
            if latest:  # else a later task wrote the order already: this one was discarded
                await save_timeline(db, order.order_id, input.entries, written_by)
            if newest is None:
                newest, read = await newest_number(db, order.pipeline_id), True

        await self._writes.write(write)
        if read and newest is not None:  # what it knew already lapses as it would have
            remember_newest(order.pipeline_id, newest)
        return newest
