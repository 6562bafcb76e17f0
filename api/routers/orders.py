"""Orders: create, send events, read state and timeline, list; the messages rules sent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ReadsOrders, WritesEvents, WritesOrders
from api.dependencies import AppSettings, Orders, Store
from api.errors import invalid_request
from api.events_in import EventIn, IdempotencyKey, service_event
from automation import limits, testlog, tracking
from automation.order import NewOrder
from automation.state import EventOutcome, OrderView, ResendOutcome, TimelineEntry
from order_client import OrderSummary
from store.database import session
from store.messages import list_messages, message_order
from store.orders import read_timeline, register_order
from store.tables import Order, PipelineRecord

router = APIRouter(tags=["orders"])

OrderIdPath = Annotated[
    str, Path(max_length=limits.ORDER_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", description="the order id")
]


class Accepted(BaseModel):
    event_id: str
    accepted: bool = True


class TimelineItem(BaseModel):
    seq: int
    at: datetime
    kind: str
    stage: str
    message: str
    data: dict[str, Any]


class MessageItem(BaseModel):
    run_key: str = Field(description="the rule run that sent it; resend it by this")
    order_id: str
    channel: str
    recipient: str
    subject: str
    status: str
    note: str
    created_at: datetime
    sent_at: datetime | None


class ResendDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100, description="who decides to resend it")


@router.post("/orders", status_code=201, response_model=dict[str, str])
async def create_order(
    caller: WritesOrders, order: NewOrder, orders: Orders, store: Store
) -> dict[str, str] | JSONResponse:
    """Starts the order; creating one that exists changes nothing. The store knows the
    order (and its customer) before the answer: an event for its customer reaches it."""
    caller.check_pipeline(order.pipeline_id)
    async with session(store) as db:
        if await db.get(Order, order.order_id) is not None:  # an order of another pipeline: not said
            await caller.check_order(db, order.order_id)
        pipeline = await db.get(PipelineRecord, order.pipeline_id)
        if pipeline is None:
            return invalid_request(f"pipeline_id: no pipeline {order.pipeline_id!r}; load it first")
        await register_order(db, order, pipeline.definition["stages"][0]["id"])
        await db.commit()
    handle = await orders.create_order(order)
    return {"order_id": order.order_id, "workflow_id": handle.id}


@router.post("/orders/{order_id}/events", status_code=202, response_model=EventOutcome | Accepted)
async def send_event(
    caller: WritesEvents,
    order_id: OrderIdPath,
    event: EventIn,
    orders: Orders,
    store: Store,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[bool, Query(description="wait for the outcome (the order's new stage)")] = False,
) -> EventOutcome | Accepted | JSONResponse:
    """Sends an event. A retried request with the same Idempotency-Key (or event_id) is
    applied once. With ``wait=true`` the answer is the outcome (200), else 202."""
    async with session(store) as db:
        await caller.check_order(db, order_id)
    parsed = service_event(event, idempotency_key)
    if not wait:
        await orders.send_event(order_id, parsed)
        return Accepted(event_id=parsed.event_id)
    outcome = await orders.apply_event(order_id, parsed)
    return JSONResponse(outcome.model_dump(mode="json"), status_code=200)


@router.get("/orders/{order_id}", response_model=OrderView)
async def order_state(
    caller: ReadsOrders, order_id: OrderIdPath, orders: Orders, store: Store, settings: AppSettings
) -> JSONResponse:
    """The running order: stage, variables, rules of its stage, latest timeline. Signed
    links (a document's, a tracked link) are not shown: they are the customer's."""
    async with session(store) as db:
        await caller.check_order(db, order_id)
    view = (await orders.state(order_id)).model_dump(mode="json")
    return JSONResponse(tracking.hidden_links(view, settings.public_url))


@router.get("/orders/{order_id}/timeline", response_model=list[TimelineItem])
async def order_timeline(
    caller: ReadsOrders, order_id: OrderIdPath, store: Store, settings: AppSettings
) -> JSONResponse:
    """The whole timeline, from the store (signed links not shown)."""
    async with session(store) as db:
        await caller.check_order(db, order_id)
        rows = await read_timeline(db, order_id)
    if not rows:
        raise HTTPException(404, f"no order {order_id!r}")
    items = [TimelineItem.model_validate(row, from_attributes=True).model_dump(mode="json") for row in rows]
    return JSONResponse(tracking.hidden_links(items, settings.public_url))


class SkippedPause(BaseModel):
    message: str


@router.post("/orders/{order_id}/skip-pause", response_model=SkippedPause, tags=["test mode"])
async def skip_pause(caller: WritesOrders, order_id: OrderIdPath, orders: Orders, store: Store) -> SkippedPause:
    """A test order's "skip this pause": the delays and Waits of its stage end now, as if
    their time had come. 409 for a real order."""
    async with session(store) as db:
        await caller.check_order(db, order_id)
    return SkippedPause(message=await orders.skip_pause(order_id))


@router.get("/orders/{order_id}/test-log", response_model=list[str], tags=["test mode"])
async def test_log(caller: ReadsOrders, order_id: OrderIdPath, store: Store) -> list[str]:
    """A test order's test log, one line each (details indented): each rule's timing, its
    condition with the values compared, what it read and changed; each event's triggers."""
    async with session(store) as db:
        await caller.check_order(db, order_id)
        row = await db.get(Order, order_id)
        rows = await read_timeline(db, order_id)
    if row is None:
        raise HTTPException(404, f"no order {order_id!r}")
    if not row.test:
        raise HTTPException(409, f"order {order_id!r} is a real order: only a test order keeps a test log")
    return testlog.lines(TimelineEntry.model_validate(r, from_attributes=True) for r in rows)


@router.get("/orders", response_model=list[OrderSummary])
async def list_orders(
    caller: ReadsOrders,
    orders: Orders,
    stage: Annotated[str | None, Query(max_length=limits.SLUG_CHARS)] = None,
    pipeline: Annotated[str | None, Query(max_length=limits.SLUG_CHARS)] = None,
    test: Annotated[bool, Query(description="test orders only (never listed otherwise)")] = False,
) -> list[OrderSummary]:
    """Running orders by stage or pipeline (Temporal's visibility); of a key limited to
    pipelines, those of its pipelines. Test orders are listed only with ``test=true``."""
    if pipeline is not None:
        caller.check_pipeline(pipeline)
    found = await orders.list_orders(stage=stage, pipeline_id=pipeline, test=test)
    return [order for order in found if caller.may_use(order.pipeline_id)]


@router.get("/messages", response_model=list[MessageItem], tags=["messages"])
async def messages(
    caller: ReadsOrders,
    store: Store,
    status: Annotated[str | None, Query(max_length=20, description="e.g. unconfirmed")] = None,
    order_id: Annotated[str | None, Query(max_length=limits.ORDER_ID_CHARS)] = None,
) -> list[MessageItem]:
    """The messages rules sent (the outbox), oldest first: ``status=unconfirmed`` lists
    those that may or may not have gone out, for an operator to resend or not."""
    async with session(store) as db:
        rows = await list_messages(db, status=status, order_id=order_id, pipelines=caller.pipelines)
    return [MessageItem.model_validate(row, from_attributes=True) for row in rows]


@router.post("/messages/{run_key:path}/resend", response_model=ResendOutcome, tags=["messages"])
async def resend(
    caller: WritesOrders, run_key: Annotated[str, Path(max_length=400)], decision: ResendDecision,
    orders: Orders, store: Store,
) -> ResendOutcome:  # fmt: skip
    """Resends an unconfirmed message, on an operator's decision (recorded in the order's
    timeline, with ``by``). The engine never resends one by itself: it may have gone out."""
    if caller.pipelines is not None:
        async with session(store) as db:
            await caller.check_order(db, await message_order(db, run_key) or "")
    return await orders.resend_message(run_key, decision.by)
