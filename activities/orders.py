"""The order's own bookkeeping: its pipeline in, its row and timeline out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from automation import limits
from automation.models import json_size
from automation.order import NewOrder
from automation.pipeline import Pipeline
from automation.state import TimelineEntry
from store.database import session
from store.orders import WrittenBy, get_pipeline, save_arrival, save_order, save_timeline


class SaveOrderInput(BaseModel):
    order: NewOrder
    stage: str
    responsible_id: str | None
    fields: dict[str, Any]
    variables: dict[str, Any]
    entries: list[TimelineEntry]
    save_customer: bool = False
    run_number: int = 0
    run_id: str = ""
    history_length: int = 0
    """Which run writes (its number and id), at which length of its history: a discarded
    task's writes are put right (``store.orders.WrittenBy``)."""


class OrderActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn
    async def load_pipeline(self, pipeline_id: str) -> Pipeline:
        async with session(self._engine) as db:
            pipeline = await get_pipeline(db, pipeline_id)
        if pipeline is None:
            raise ApplicationError(
                f"no pipeline {pipeline_id!r} in the store; load it with `starter.py load-pipeline FILE`",
                type="UnknownPipeline",
                non_retryable=True,
            )
        size = json_size(pipeline.model_dump(mode="json"))
        if size > limits.PIPELINE_BYTES:  # stored before pipelines had a limit: over the budget of an order
            raise ApplicationError(
                f"pipeline {pipeline_id!r} is {size:,} bytes of JSON, too big to run with an order "
                f"(at most {limits.PIPELINE_BYTES:,}); load a smaller one",
                type="PipelineTooLarge",
                non_retryable=True,
            )
        return pipeline

    @activity.defn
    async def save_order(self, input: SaveOrderInput) -> None:
        """Idempotent, and put right by a later writer (``WrittenBy``): the row is
        overwritten, timeline entries are keyed by their number."""
        order = input.order
        written_by = WrittenBy(input.run_number, input.run_id, input.history_length)
        async with session(self._engine) as db:
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
            )
            if latest:  # else a later task wrote the order already: this one was discarded
                await save_timeline(db, order.order_id, input.entries, written_by)
            await db.commit()
