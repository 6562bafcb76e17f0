"""Turns each registered rule type into a Temporal activity named after its kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.registry import RULE_TYPES
from activities.rules.base import Deps, RuleContext, RuleType, refuse
from automation.models import INSIDE
from automation.rules import RuleInput, RuleResult
from store.database import session
from store.directory import customer_values, employee_values


async def _template_values(deps: Deps, input: RuleInput) -> dict[str, Any]:
    order = input.values.get("order", {})
    async with session(deps.engine) as db:
        customer = await customer_values(db, order.get("customer_id"))
        responsible = await employee_values(db, order.get("responsible_id"))
    return {**input.values, "customer": customer, "responsible": responsible}


async def _heartbeat(every: timedelta) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(every.total_seconds())


def _fitting(result: RuleResult) -> RuleResult:
    """The result, unless it is too big for an order to take: then the rule fails, saying why."""
    if problems := result.problems():
        raise refuse("the rule's result is too big: " + "; ".join(problems))
    return result


def rule_activity(rule: RuleType[Any], deps: Deps) -> Callable[[RuleInput], Any]:
    async def run(input: RuleInput) -> RuleResult:
        try:
            return await run_once(input)
        except ApplicationError as err:
            if err.type == "RuleRefused":  # one line for ops; the order's timeline says it too
                activity.logger.info("order %s: %s refused: %s", input.order_id, rule.kind, err.message)
            raise

    async def run_once(input: RuleInput) -> RuleResult:
        params = rule.params.model_validate(input.params, context=INSIDE)
        attempts = rule.retry.maximum_attempts
        final = 0 < attempts <= activity.info().attempt
        context = RuleContext(input=input, deps=deps, values=await _template_values(deps, input), final_attempt=final)
        if rule.heartbeat is None:
            return _fitting(await rule.run(context, params))
        beating = asyncio.create_task(_heartbeat(rule.heartbeat / 4))
        try:
            return _fitting(await rule.run(context, params))
        finally:
            beating.cancel()

    run.__name__ = run.__qualname__ = rule.kind
    return activity.defn(name=rule.kind)(run)


def rule_activities(deps: Deps) -> dict[str, Callable[[RuleInput], Any]]:
    """Every rule type's activity, by kind (which is also the activity's name)."""
    return {kind: rule_activity(rule, deps) for kind, rule in RULE_TYPES.items()}
