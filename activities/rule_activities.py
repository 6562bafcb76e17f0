"""Turns each rule kind, with its implementation, into a Temporal activity named after it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.orders import OrderActivities
from activities.registry import IMPLEMENTATIONS, RunRule
from activities.rules._outbox import TEST
from activities.rules.base import RuleContext, WorkerResources, refuse
from automation.contracts import SaveOrderInput
from automation.models import INSIDE, nested_values
from automation.rule_kinds import RULE_KINDS
from automation.rules import RuleInput, RuleKind, RuleResult
from store.constants import set_values
from store.database import session
from store.directory import customer_values, employee_values
from store.tables import SentMessage


async def _template_values(deps: WorkerResources, input: RuleInput) -> dict[str, Any]:
    """The order's values, with the customer's and the responsible's cards and the constants
    an admin set (``store/constants.py``) as they are now, read only when the rule needs them."""
    order = input.values.get("order", {})
    reads_constants = any(isinstance(text, str) and "constants" in text for text in nested_values(input.params))
    if not order.get("customer_id") and not order.get("responsible_id") and not reads_constants:
        return {**input.values, "customer": {}, "responsible": {}}
    async with session(deps.engine) as db:
        customer = await customer_values(db, order.get("customer_id"))
        responsible = await employee_values(db, order.get("responsible_id"))
        admins = await set_values(db, str(order.get("pipeline"))) if reads_constants else {}
    constants = {**input.values.get("constants", {}), **admins}
    return {**input.values, "customer": customer, "responsible": responsible, "constants": constants}


async def _heartbeat(every: timedelta) -> None:
    # Not at once: the SDK sends a first heartbeat to the server straight away, a round trip
    # that most rules (done in milliseconds) do not need.
    while True:
        await asyncio.sleep(every.total_seconds())
        activity.heartbeat()


def _fitting(result: RuleResult) -> RuleResult:
    """The result, unless it is too big for an order to take: then the rule fails, saying why."""
    if problems := result.problems():
        raise refuse("the rule's result is too big: " + "; ".join(problems))
    return result


async def _said_of_a_test(deps: WorkerResources, input: RuleInput, result: RuleResult) -> RuleResult:
    """A test order's message was recorded, not sent: its summary says so."""
    async with session(deps.engine) as db:
        row = (await db.exec(select(SentMessage).where(SentMessage.run_key == input.run_key))).first()
    if row is None or row.status != TEST:
        return result
    return result.model_copy(update={"summary": f"test order, recorded and not sent: {result.summary}"})


CARRIED_WRITE_AFTER = 0.2
"""Seconds a rule runs before its activity makes the order's store write it carries
(``RuleInput.store_write``): a quicker rule leaves it to the order, which makes it with the
rule's result."""
CARRIED_WRITE_PATIENCE = 5.0
"""Seconds a failed attempt waits for the carried write before it reports its failure."""


class CarriedWrite:
    """The order's store write that a rule activity carries: made once the rule has run
    ``CARRIED_WRITE_AFTER``, or at once when an attempt fails and the rule will be retried
    (the order waits for its retries, the store should not), dropped when the rule ends
    sooner. The store takes it whole or not at all, and never over a later write
    (``store.orders.WrittenBy``)."""

    def __init__(self, deps: WorkerResources, order_id: str, write: str) -> None:
        self._due = asyncio.Event()
        self._made = asyncio.create_task(self._make(deps, order_id, write))

    async def _make(self, deps: WorkerResources, order_id: str, write: str) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._due.wait(), CARRIED_WRITE_AFTER)
        try:
            save = SaveOrderInput.model_validate_json(write, context=INSIDE)
            await OrderActivities(deps.engine, deps.writes).save_order(save)
        except Exception as err:  # the order makes it itself when the rule ends
            activity.logger.warning("the store write carried for order %s failed: %s", order_id, err)

    async def now(self) -> None:
        self._due.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._made), CARRIED_WRITE_PATIENCE)

    def drop(self) -> None:
        self._made.cancel()


def _retried(rule: RuleKind[Any], err: Exception) -> bool:
    """Whether Temporal runs the rule again after this attempt's failure."""
    if isinstance(err, ApplicationError) and (
        err.non_retryable or err.type in (rule.retry.non_retryable_error_types or ())
    ):
        return False
    return not _final_attempt(rule)


def _final_attempt(rule: RuleKind[Any]) -> bool:
    """The retry policy allows no attempt after this one."""
    attempts = rule.retry.maximum_attempts
    return 0 < attempts <= activity.info().attempt


def rule_activity(rule: RuleKind[Any], implementation: RunRule, deps: WorkerResources) -> Callable[[RuleInput], Any]:
    async def run(input: RuleInput) -> RuleResult:
        carried = CarriedWrite(deps, input.order_id, input.store_write) if input.store_write is not None else None
        try:
            return await run_once(input)
        except Exception as err:
            if carried is not None and _retried(rule, err):
                await carried.now()
            if isinstance(err, ApplicationError) and err.type == "RuleRefused":  # one line for ops
                activity.logger.info("order %s: %s refused: %s", input.order_id, rule.name, err.message)
            raise
        finally:
            if carried is not None:
                carried.drop()  # not begun: the order makes it with the result

    async def run_once(input: RuleInput) -> RuleResult:
        params = rule.params.model_validate(input.params, context=INSIDE)
        values = await _template_values(deps, input)
        context = RuleContext(input=input, deps=deps, values=values, final_attempt=_final_attempt(rule))
        beating = asyncio.create_task(_heartbeat(rule.heartbeat / 4)) if rule.heartbeat is not None else None
        try:
            result = _fitting(await implementation(context, params))
        finally:
            if beating is not None:
                beating.cancel()
        return await _said_of_a_test(deps, input, result) if input.test else result

    run.__name__ = run.__qualname__ = rule.name
    return activity.defn(name=rule.name)(run)


def rule_activities(deps: WorkerResources) -> dict[str, Callable[[RuleInput], Any]]:
    """Every rule kind's activity, by name (which is also the activity's name)."""
    return {name: rule_activity(kind, IMPLEMENTATIONS[name], deps) for name, kind in RULE_KINDS.items()}
