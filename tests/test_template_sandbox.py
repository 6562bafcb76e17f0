"""Templates cannot stall the worker: a plain one renders in place with its output cut
off at the limit; any other renders in a sandbox process with a budget of time and
memory, and a hostile one fails its rule with the reason while other orders go on."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from activities.templates import render_template
from automation import limits
from automation.order import NewOrder
from automation.pipeline import parse_pipeline
from automation.state import OrderView
from automation.templating import is_plain, render
from tests.conftest import Engine, running_engine, seed
from tests.helpers import event, eventually, new_order, payment, ready_view, rule_status

PLAIN = [
    "Hello {{ customer.first_name }}",
    "Order {{ order.number or order.id }}: {{ wait.reason }}",
    "{% if order.total > 100 %}big{% else %}small{% endif %} {{ order.total|round(2) }}",
    "{{ variables.items|join(', ') }} {{ order.currency|default('EUR')|upper }}",
]
NOT_PLAIN = {
    "a loop": "{% for i in range(10) %}x{% endfor %}",
    "a multiplied string": "{{ 'a' * 10 }}",
    "a call": "{{ customer.first_name.upper() }}",
    "a set, which can double a value at each step": "{% set a = order.note ~ order.note %}{{ a }}",
    "a filter given a value": "{{ variables.items|join(order.note) }}",
    "a filter that pads": "{{ order.id|center(80) }}",
    "more than 50 values": "{{ order.id }}" * 51,
    "growing filters applied to each other": "{{ order.id|list|string|list|string }}",
    "growing filters through a concatenation": "{{ (order.id|tojson ~ '')|tojson }}",
}


@pytest.mark.parametrize("text", PLAIN)
def test_a_template_of_values_conditions_and_cheap_filters_is_plain(text: str) -> None:
    assert is_plain(text)


@pytest.mark.parametrize("name", NOT_PLAIN, ids=list(NOT_PLAIN))
def test_anything_else_goes_to_the_sandbox(name: str) -> None:
    assert not is_plain(NOT_PLAIN[name])


def test_the_output_of_a_plain_template_is_cut_off_at_the_limit() -> None:
    big = {"order": {"note": "n" * 40_000}}
    assert len(render("{{ order.note }}", big)) == 40_000
    with pytest.raises(ValueError, match="template output is over 65,536 characters"):
        render("{{ order.note }}{{ order.note }}", big)


async def test_a_loop_renders_in_the_sandbox() -> None:
    assert (
        await render_template("{% for i in range(3) %}{{ i }}-{% endfor %}{{ x.upper() }}", {"x": "ok"}) == "0-1-2-OK"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", "took more than 2 s"),
        ("{{ 'a' * 2000000000 }}", f"used more than {limits.TEMPLATE_MEMORY_BYTES // limits.MiB} MiB"),
        ("{% for a in range(99999) %}{{ 'word ' * 9 }}{% endfor %}", "template output is over 65,536 characters"),
    ],
    ids=["time: 2 s", "memory: 512 MiB", "output: 64 KiB"],
)
async def test_a_hostile_template_stops_at_its_budget(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        await render_template(text, {})
    assert await render_template("{% for i in range(2) %}{{ i }}{% endfor %}", {}) == "01"  # the sandbox goes on


PIPELINE = parse_pipeline(
    """
id: templated
title: Templated
stages:
  - id: new
    title: New
  - id: spinning
    title: Spinning
    triggers: [{type: chat_message}]
    rules:
      - type: write_to_log
        title: Spin
        params: {message: "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"}
  - id: paid
    title: Paid
    triggers: [{type: payment}]
  - {id: done, title: Done, final: success}
"""
)


async def test_a_hostile_template_fails_its_rule_while_other_orders_go_on(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, PIPELINE)
    async with running_engine(dev_env, deps) as engine:
        spinning, other = new_order("templated"), new_order("templated")
        for order in (spinning, other):
            await engine.orders.create_order(order)

            async def started(order: NewOrder = order) -> OrderView | None:
                return await ready_view(engine.orders, order.order_id)

            await eventually(started)
        await engine.orders.apply_event(spinning.order_id, event("chat_message", channel_id="ch-1"))
        await eventually(lambda: _is(engine, spinning.order_id, "Spin", "running"))

        # While the template spins (2 s), the worker serves the other order at once.
        outcome = await engine.orders.apply_event(other.order_id, payment())
        view = await engine.orders.state(other.order_id)
        assert (outcome.stage, view.stage) == ("paid", "paid")
        assert await rule_status(engine.orders, spinning.order_id, "Spin") == "running"

        await eventually(lambda: _is(engine, spinning.order_id, "Spin", "failed"))
        timeline = (await engine.orders.state(spinning.order_id)).timeline
    failure = next(entry for entry in timeline if entry.kind == "rule_failed")
    assert failure.message == "rule 1 (Spin): failed, template took more than 2 s to render"


async def _is(engine: Engine, order_id: str, title: str, status: str) -> bool:
    return await rule_status(engine.orders, order_id, title) == status
