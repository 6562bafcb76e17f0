"""The online-store lifecycle, end to end on the dev server."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline
from automation.state import OrderView
from store.database import session
from store.tables import Comment, Notification
from tests.conftest import Engine, Mailbox, running_engine, seed, text_of
from tests.helpers import event, eventually, new_order, payment, ready_view
from tests.providers_server import Kind, ProvidersServer


async def test_payment_moves_order_to_paid_and_runs_its_rules(
    dev_env: WorkflowEnvironment, deps: WorkerResources, smtp: Mailbox, example_pipeline: Pipeline
) -> None:
    await seed(deps.engine, example_pipeline)
    async with running_engine(dev_env, deps) as engine:
        order = new_order()
        await engine.orders.create_order(order)
        assert order.customer is not None
        address = order.customer.emails[0].value
        view = await eventually(lambda: _numbered(engine, order.order_id))
        number = view.variables["order_number"]
        confirmation = await eventually(lambda: _first([m for m in smtp.to(address) if number in m["Subject"]]))
        assert confirmation["Subject"] == f"Example Shop: order {number} received"
        assert f"thank you for your order {number} of 120.5 EUR" in text_of(confirmation)

        outcome = await engine.orders.apply_event(order.order_id, payment())
        assert (outcome.status, outcome.moved_from, outcome.stage) == ("applied", "new", "paid")

        async def comment() -> Comment | None:
            async with session(deps.engine) as db:
                return (await db.exec(select(Comment).where(Comment.order_id == order.order_id))).first()

        note = await eventually(comment)
        assert note.text == "Paid 120.5 EUR (payment pay-1)"
        receipt = await eventually(lambda: _first([m for m in smtp.to(address) if "payment" in m["Subject"]]))
        assert "we received 120.5 EUR for order" in text_of(receipt)

        await engine.orders.send_event(order.order_id, event("email_received", address=address))

        async def notification() -> Notification | None:
            async with session(deps.engine) as db:
                query = select(Notification).where(Notification.order_id == order.order_id)
                return (await db.exec(query)).first()

        notice = await eventually(notification)
        assert notice.employee_id == "emp-sales"
        assert "customer activity (Incoming e-mail)" in notice.text
        view = await eventually(lambda: _responsible_is(engine, order.order_id, "emp-warehouse"))
        assert view.stage in ("paid", "delivery", "shipped")  # packing moves it on: the next test


async def _numbered(engine: Engine, order_id: str) -> OrderView | None:
    view = await ready_view(engine.orders, order_id)
    return view if view is not None and "order_number" in view.variables else None


async def _first(items: list[EmailMessage]) -> EmailMessage | None:
    return items[0] if items else None


async def _responsible_is(engine: Engine, order_id: str, employee_id: str) -> OrderView | None:
    view = await engine.orders.state(order_id)
    return view if view.responsible_id == employee_id else None


async def test_the_engine_fires_triggers_by_its_own_actions(
    dev_env: WorkflowEnvironment, deps: WorkerResources, providers_server: ProvidersServer, example_pipeline: Pipeline
) -> None:
    """Sending an e-mail fires E-mail sent, Change responsible fires Responsible changed,
    packing fires Shipment status updated (which moves the order to delivery), a tracking
    number fires Tracking number added (which moves it to shipped): no service involved."""
    await seed(deps.engine, example_pipeline)
    async with running_engine(dev_env, deps) as engine:
        order = new_order()
        await engine.orders.apply_event(order, payment())
        await engine.orders.send_event(order.order_id, event("email_received"))

        view = await eventually(lambda: _at(engine, order.order_id, "shipped"), timeout=30)
        changes = [(e.data["from"], e.data["to"], e.message.split("(", 1)[1]) for e in view.timeline
                   if e.kind == "stage_changed"]  # fmt: skip
        assert changes[-2:] == [
            ("paid", "delivery", "trigger Packed)"),
            ("delivery", "shipped", "trigger Tracking number set)"),
        ]
        types = [e.data["event"]["type"] for e in view.timeline if e.kind == "event_received"]
        assert {"email_sent", "responsible_changed", "shipment_changed", "delivery_approved",
                "tracking_number_added"} <= set(types)  # fmt: skip
        [call] = await eventually(lambda: _delivered(providers_server, "call"))
        assert "your order" in call["Twiml"] and order.order_id in call["Twiml"]


async def _at(engine: Engine, order_id: str, stage: str) -> OrderView | None:
    view = await ready_view(engine.orders, order_id)
    return view if view is not None and view.stage == stage else None


async def _delivered(server: ProvidersServer, kind: Kind) -> list[dict[str, Any]] | None:
    return server.of(kind) or None
