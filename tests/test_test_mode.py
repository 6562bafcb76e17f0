"""Test mode on the real servers: a test order records its messages and never sends them,
is never listed nor counted with the real ones, keeps a test log (each rule's timing and
condition with the values compared, what it read and changed; each event's triggers), and
its pauses can be skipped; a real order's cannot. ``orders test`` runs a scenario on
simulated time and exits 1 when an expectation fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import parse_pipeline
from automation.state import OrderView, TimelineEntry
from automation.testlog import lines
from order_client import OrderClient
from starter import run
from store.database import session
from store.messages import list_messages
from store.orders import open_orders, read_timeline
from store.pipelines import orders_by_stage
from tests.conftest import Mailbox, running_engine, seed
from tests.helpers import eventually, new_order, payment, ready_view, rule_status

ROOT = Path(__file__).resolve().parents[1]
SHOP = parse_pipeline("""
id: trial
title: Trial shop
stages:
  - id: new
    title: New
    rules:
      - {type: send_email, title: Welcome, params: {subject: "Welcome {{ customer.first_name }}", body: Hello}}
      - type: write_to_log
        title: Big order
        delay: {after: 2d}
        condition: {field: order.total, op: ">", value: 100}
        params: {message: "big: {{ order.total }}"}
  - id: paid
    title: Paid
    triggers: [{type: payment, condition: {field: event.amount, op: ">=", value: 10}}]
  - {id: done, title: Done, final: success}
""")


async def test_a_test_order_records_its_messages_keeps_a_test_log_and_its_pauses_can_be_skipped(
    dev_env: WorkflowEnvironment, deps: WorkerResources, smtp: Mailbox
) -> None:
    await seed(deps.engine, SHOP)
    async with running_engine(dev_env, deps) as engine:
        trial = new_order("trial", total=120).model_copy(update={"test": True})
        real = new_order("trial", total=120)
        await engine.orders.create_order(trial)
        await engine.orders.create_order(real)
        await eventually(lambda: _done(engine.orders, trial.order_id, "Welcome"))
        await eventually(lambda: _done(engine.orders, real.order_id, "Welcome"))

        async with session(deps.engine) as db:
            recorded = {m.order_id: m.status for m in await list_messages(db)}
            assert recorded == {trial.order_id: "test", real.order_id: "sent"}
            assert [m["To"] for m in smtp.messages] == [real.customer.emails[0].value]  # type: ignore[union-attr]
            assert await orders_by_stage(db, "trial") == {"new": 1}  # the real one only
            assert await open_orders(db, [real.customer.id]) == [real.order_id]  # type: ignore[union-attr]
        listed = {order.order_id for order in await engine.orders.list_orders(pipeline_id="trial")}
        assert trial.order_id not in listed
        assert [o.order_id for o in await engine.orders.list_orders(pipeline_id="trial", test=True)] == [trial.order_id]
        view = await ready_view(engine.orders, trial.order_id)
        assert view is not None and view.test

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await engine.orders.skip_pause(real.order_id)
        assert "only a test order's pauses can be skipped" in str(refused.value.cause)
        await engine.orders.skip_pause(trial.order_id)  # the 2-day delay ends now
        await eventually(lambda: _done(engine.orders, trial.order_id, "Big order"))
        assert (
            await engine.orders.skip_pause(trial.order_id)
            == "nothing to skip: no delay or Wait is under way at stage 'new'"
        )
        assert await rule_status(engine.orders, real.order_id, "Big order") == "waiting"

        await engine.orders.apply_event(trial.order_id, payment(amount=5))
        await engine.orders.apply_event(trial.order_id, payment(amount=50))

        async def logged() -> list[str] | None:
            async with session(deps.engine) as db:
                records = await read_timeline(db, trial.order_id)
            found = lines(TimelineEntry.model_validate(r, from_attributes=True) for r in records)
            return found if any("accepted it" in line for line in found) else None

        log = await eventually(logged)
    assert any("rule 1 (Welcome): finished, test order, recorded and not sent: e-mail sent to" in line for line in log)
    assert any(line.startswith("    ready ") and "; delay after 2d; due " in line for line in log)
    assert "    condition order.total > 100: met" in log
    assert "      order.total > 100 (order.total is 120): holds" in log
    assert "    read: variables.customer_name" not in "\n".join(log)  # it reads no variable
    assert (
        "    trigger Payment on 'paid': turned it down, its condition does not hold "
        "(event.amount >= 10 (event.amount is 5.0): does not hold)"
    ) in log
    assert "    trigger Payment on 'paid': accepted it" in log


async def _done(orders: OrderClient, order_id: str, title: str) -> bool | None:
    return True if await rule_status(orders, order_id, title) == "done" else None


async def test_a_real_order_keeps_no_test_notes(dev_env: WorkflowEnvironment, deps: WorkerResources) -> None:
    await seed(deps.engine, SHOP)
    async with running_engine(dev_env, deps) as engine:
        real = new_order("trial", total=120)
        await engine.orders.create_order(real)
        await engine.orders.apply_event(real.order_id, payment(amount=50))

        async def paid() -> OrderView | None:
            view = await ready_view(engine.orders, real.order_id)
            return view if view is not None and view.stage == "paid" else None

        view = await eventually(paid)
    assert not view.test
    assert all("test" not in entry.data for entry in view.timeline)
    assert "test_log" not in {entry.kind for entry in view.timeline}


def test_orders_test_runs_a_scenario_on_simulated_time(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = ROOT / "examples/scenarios/paid_after_a_reminder.yaml"
    status = run(["test", str(ROOT / "examples/online_store.yaml"), str(scenario),
                  "--directory", str(ROOT / "examples/directory.yaml")])  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    assert "step 2 at +2d1h: ok (stage new)" in out  # a 2-day delay, passed at once
    assert "step 5 at +2d4h, skip the pause: ok (stage paid)" in out
    assert "messages recorded (a test order's are never sent): 4" in out
    assert "5 step(s) passed, 0 failed" in out


def test_orders_test_fails_naming_each_unmet_expectation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = tmp_path / "trial.yaml"
    pipeline.write_text(
        "id: trial\ntitle: Trial\nvariables: {tries: {type: integer, default: 0}}\nstages:\n"
        "  - id: new\n    title: New\n"
        "    rules: [{type: set_variable, params: {variable: tries, operation: add, by: 1}}]\n"
        "  - {id: paid, title: Paid, triggers: [{type: payment}]}\n  - {id: done, title: Done, final: success}\n"
    )
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "steps:\n  - expect: {variables: {tries: 1}}\n"
        "  - {at: 3d, event: {type: payment, data: {amount: 5, currency: EUR}},\n"
        "     expect: {stage: done, variables: {tries: 2}}}\n"
    )
    assert run(["test", str(pipeline), str(scenario), "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "step 1 at +0s: ok (stage new)",
        "step 2 at +3d, event payment: FAILED (stage paid)",
        "    steps[1].expect.stage: wanted 'done', the order is at 'paid'",
        "    steps[1].expect.variables.tries: wanted 2, it is 1",
        "1 step(s) passed, 1 failed",
    ]


def test_a_step_the_order_cannot_take_fails_saying_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = tmp_path / "gone.yaml"
    pipeline.write_text(
        "id: gone\ntitle: Gone\nstages:\n"
        "  - {id: new, title: New, rules: [{type: delete_order, delay: {after: 1d}}]}\n"
        "  - {id: paid, title: Paid, triggers: [{type: payment}]}\n  - {id: done, title: Done, final: success}\n"
    )
    scenario = tmp_path / "late.yaml"
    scenario.write_text("steps:\n  - {at: 3d, event: {type: payment, data: {amount: 5, currency: EUR}}}\n")
    assert run(["test", str(pipeline), str(scenario), "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("step 1 at +3d, event payment: FAILED")
    assert out[2] == "    steps[0].the order has ended (its workflow is completed): it takes no more events"
