"""Every rule type of the example pipeline runs for real: an order goes through all of its
stages on a Temporal server (the time-skipping one, so that the delays of days pass), with
the real store, SMTP server and provider server."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline
from automation.rule_kinds import RULE_KINDS
from store.database import session
from store.orders import read_timeline
from store.tables import TimelineRecord
from tests.conftest import Engine, running_engine, seed
from tests.helpers import event, eventually, new_order, payment, ready_view


async def _at(engine: Engine, order_id: str, stage: str) -> bool:
    view = await ready_view(engine.orders, order_id)
    return view is not None and view.stage == stage and all(r.status != "running" for r in view.rules)


async def test_an_order_through_every_stage_runs_every_rule(
    time_env: WorkflowEnvironment, deps: WorkerResources, example_pipeline: Pipeline
) -> None:
    await seed(deps.engine, example_pipeline)
    async with running_engine(time_env, deps) as engine:
        order = new_order(total=600)  # a VIP order: the VIP list rule's condition holds
        order_id = order.order_id
        await engine.orders.create_order(order)
        await eventually(lambda: _at(engine, order_id, "new"))
        await time_env.sleep(timedelta(days=2, minutes=1))  # the payment reminder
        for step, stage in [
            (event("chat_first_message", channel_id="site-chat", text="Hi, about my order"), "contacted"),
            (event("email_received"), "awaiting_payment"),
        ]:
            await engine.orders.apply_event(order_id, step)

            async def arrived(stage: str = stage) -> bool:
                return await _at(engine, order_id, stage)

            await eventually(arrived)
        await time_env.sleep(timedelta(days=3, minutes=1))  # control, then the SMS to the responsible
        await engine.orders.apply_event(order_id, payment(600))
        await eventually(lambda: _at(engine, order_id, "paid"))
        await engine.orders.apply_event(order_id, event("visit"))  # ends the Wait: packing moves it on
        await eventually(lambda: _at(engine, order_id, "shipped"), timeout=30)
        await time_env.sleep(timedelta(days=10, minutes=1))  # the review e-mail: E-mail sent completes it
        await eventually(lambda: _at(engine, order_id, "completed"))
        await engine.orders.apply_event(order_id, event("order_cancelled"))
        await eventually(lambda: _at(engine, order_id, "cancelled"))
        await time_env.sleep(timedelta(days=30, minutes=1))  # delete unpaid orders: this one is paid

        async def ran() -> list[TimelineRecord] | None:
            async with session(deps.engine) as db:
                entries = await read_timeline(db, order_id)
            finished = [e for e in entries if e.kind == "rule_finished"]
            return finished if "delete_order" in {e.data["rule"] for e in finished} else None

        finished = await eventually(ran)
        async with session(deps.engine) as db:
            failed = [e.message for e in await read_timeline(db, order_id) if e.kind == "rule_failed"]
    assert failed == []
    with_effect = {e.data["rule"] for e in finished if "finished without effect" not in e.message}
    without = {e.message for e in finished if "finished without effect" in e.message}
    # Change status is the one rule this path never reaches (the review e-mail completes the
    # order first; tests/test_engine.py runs it), and a paid order is not deleted.
    assert set(RULE_KINDS) - with_effect == {"change_status", "delete_order"}
    assert without == {"rule 3 (Forget unpaid orders): finished without effect, not deleted: the order is paid"}
