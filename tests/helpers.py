"""Small things the tests share: building orders and events, and waiting for effects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio.client import WorkflowQueryFailedError

from automation.order import ContactPoint, CustomerInfo, NewOrder, ShipmentInfo
from automation.pipeline import Pipeline, parse_pipeline
from automation.state import OrderView
from order_client import OrderClient

T = TypeVar("T")


def new_order(pipeline_id: str = "online-store", **fields: Any) -> NewOrder:
    suffix = uuid.uuid4().hex[:8]
    return NewOrder(
        order_id=f"T-{suffix}",
        pipeline_id=pipeline_id,
        responsible_id="emp-sales",
        customer=CustomerInfo(
            id=f"cust-{suffix}",
            first_name="Ada",
            last_name="Lovelace",
            emails=[ContactPoint(type="work", value=f"ada-{suffix}@example.com")],
            phones=[ContactPoint(type="mobile", value="+15550100")],
        ),
        fields={"number": f"N-{suffix}", "total": 120.5, "currency": "EUR", **fields},
        shipments=[ShipmentInfo(id=f"sh-{suffix}", delivery_service="ups")],
    )


def event(type: str, **data: Any) -> dict[str, Any]:
    return {
        "event_id": f"{type}-{uuid.uuid4().hex[:8]}",
        "type": type,
        "data": data,
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def payment(amount: float = 120.5) -> dict[str, Any]:
    return event("payment", amount=amount, currency="EUR", payment_id="pay-1")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check.__qualname__}")
        await asyncio.sleep(0.1)


async def first(items: list[T]) -> T | None:
    return items[0] if items else None


def kinds(timeline: list[Any]) -> list[str]:
    return [entry.kind for entry in timeline]


async def ready_view(orders: OrderClient, order_id: str) -> OrderView | None:
    """The order's state, or None while it is still loading its pipeline."""
    try:
        return await orders.state(order_id)
    except WorkflowQueryFailedError as err:
        assert "the order is still starting" in str(err)
        return None


async def rule_status(orders: OrderClient, order_id: str, title: str) -> str | None:
    """The status of the current stage's rule of that title (None if there is none)."""
    view = await ready_view(orders, order_id)
    found = [r.status for r in view.rules if r.title == title] if view else []
    return found[0] if found else None


WAIT = "Wait for the customer's answer"
"""The Wait rule of the example pipeline's paid stage."""


async def responsible_is(orders: OrderClient, order_id: str, employee_id: str) -> OrderView | None:
    view = await ready_view(orders, order_id)
    return view if view is not None and view.responsible_id == employee_id else None


async def started_order(orders: OrderClient, pipeline_id: str) -> NewOrder:
    """A new order of the pipeline, created and past its start (its pipeline loaded)."""
    order = new_order(pipeline_id)
    await orders.create_order(order)
    await eventually(lambda: ready_view(orders, order.order_id))
    return order


def paid_pipeline(pipeline_id: str) -> Pipeline:
    """The smallest pipeline: new, then paid on a payment, then done."""
    return parse_pipeline(
        f"""
id: {pipeline_id}
title: {pipeline_id}
stages:
  - id: new
    title: New
  - id: paid
    title: Paid
    triggers: [{{type: payment}}]
  - {{id: done, title: Done, final: success}}
"""
    )
