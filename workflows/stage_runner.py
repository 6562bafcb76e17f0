"""Runs the rules of the stage an order is in, as parallel branches.

Within a branch each rule goes: its delay (a durable timer, counted from when the rule
before it finished, or from stage entry), then its condition (checked against the order
as it is then), then, for a Wait, the durable wait, then its activity. Progress lives in
the order's state (``Branch``), so a continue-as-new resumes each branch where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError, WorkflowAlreadyStartedError

from automation.children import ChildInput
from automation.conditions import Condition
from automation.contracts import SETTLE_PATIENCE, SETTLE_STOPPED_MESSAGE
from automation.effects import EndOrder, HoldForCustomer, MoveOrder, ResultEffect, StartChildWorkflow
from automation.order import workflow_id
from automation.pipeline import RuleSpec, RuleUnavailable, Stage
from automation.rules import RuleInput, RuleKind, RuleResult
from automation.state import Branch, StageVisit, TimelineKind
from automation.testlog import bounded, read_values

Step = Literal["next", "stop"]
SETTLE_PATCH = "settle-stopped-messages"
RULES_START_AT_ONCE = "rules-start-at-once"


def _cause(err: BaseException) -> str:
    """The innermost failure's own message (an activity error wraps the real one)."""
    while err.__cause__ is not None:
        err = err.__cause__
    return err.message if isinstance(err, FailureError) else str(err)


class OrderForRules(Protocol):
    """What the stage runner needs of the order's workflow: all it reads of it and does to it."""

    @property
    def order_id(self) -> str: ...

    @property
    def is_test(self) -> bool:
        """A test order: its rules record messages rather than send them, and keep a test log."""
        ...

    @property
    def pauses_skipped(self) -> int:
        """How many times an admin said "skip this pause" to this test order (0 for a real one)."""
        ...

    @property
    def starts_paused(self) -> bool:
        """No rule activity starts now: the order is getting ready to hand over to a new run."""
        ...

    def values(self) -> dict[str, Any]:
        """What delays, conditions and templates read."""
        ...

    async def condition_values(self, *conditions: Condition) -> dict[str, Any]:
        """What conditions read as a rule is due: constants as an admin set them now."""
        ...

    def customer_activity(self) -> tuple[int, str | None]:
        """How many customer events the order has seen, and the title of the last one."""
        ...

    def record(self, kind: TimelineKind, message: str, **data: Any) -> None: ...

    def hold_store_write(self, carried: bool) -> tuple[bool, str | None]:
        """A rule activity starts now: whether the order's store write waits for its result,
        and the write in JSON if the activity is to carry it (and make it if it runs long)."""
        ...

    def release_store_write(self) -> None:
        """The activity that held the store write has ended."""
        ...

    def has_patch(self, patch: str) -> bool:
        """``workflow.patched(patch)`` as this run of the order takes patches."""
        ...

    def outlive_stage(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        """Keeps ``task`` going whatever the stage does; the order waits for it."""
        ...

    def rule_result_problem(self, result: RuleResult) -> str | None:
        """Why the order cannot take the result (it would outgrow its limits); None if it can."""
        ...

    def take_rule_result(
        self,
        visit: StageVisit,
        run_key: str,
        label: str,
        rule_type: str,
        result: RuleResult,
        test: dict[str, Any] | None = None,
    ) -> None:
        """Variables, fields, raised events and the timeline entry of a rule that ran (with
        ``test``, a test order's notes on it, to which the order adds what the rule changed)."""
        ...

    def move_after_rule(self, visit: StageVisit, stage: str, label: str) -> None:
        """A rule of ``visit`` moves the order (``MoveOrder``)."""
        ...

    def end_after_rule(self, visit: StageVisit) -> None:
        """A rule of ``visit`` ended the order (``EndOrder``)."""
        ...

    def count_unconfirmed_message(self) -> None:
        """A message that may or may not have gone out, for an operator to decide on."""
        ...


class StageRunner:
    def __init__(self, order: OrderForRules, stage: Stage, visit: StageVisit) -> None:
        self._order = order
        self._visit = visit
        self._stage = stage
        self._tasks: list[asyncio.Task[None]] = []
        self._handles: list[workflow.ActivityHandle[RuleResult]] = []
        """In start order, so that they are cancelled in the same order on every replay."""
        self._stopping = False
        self._running: set[int] = set()
        """Indexes of the rules whose activity is in flight."""
        self._traces: dict[int, dict[str, Any]] = {}
        """A test order's notes on its rules, by index, until each one's outcome is recorded."""
        self.pauses_pending = 0
        """Delays and Waits under way now (what a test order's "skip this pause" ends)."""

    @property
    def _finished(self) -> bool:
        """Nothing more runs here: the order left the stage, or a rule of it moved the order.
        Checked after every await, because a cancellation can be lost: an activity that
        completes in the same workflow task as the stage change still returns its result."""
        return self._stopping or self._visit.closed

    @property
    def busy(self) -> bool:
        """Whether a rule activity is in flight; continue-as-new waits for none."""
        return bool(self._running)

    def start(self) -> None:
        if self._visit.closed:  # resumed after a hand-over: a Change status already ended it
            return
        self._tasks = [asyncio.create_task(self._run_branch(b)) for b in self._visit.branches if not b.done]

    async def stop(self) -> None:
        """Leaving the stage: abandons timers and waits, cancels running activities, and
        says in the timeline which rules stopped."""
        for index in sorted(self._running):
            kind = self._stage.rules[index].kind
            if kind is not None and kind.sends_messages and self._order.has_patch(SETTLE_PATCH):
                self._order.outlive_stage(asyncio.ensure_future(self._settle(index)))
        for branch in self._visit.branches:
            for position, index in enumerate(branch.rules[branch.position :]):
                how = "not run" if position else "cancelled while running" if index in self._running else "stopped"
                self._order.record("rule_skipped", f"{self._label(index)}: {how}, the order left the stage")
                self._visit.outcomes[index] = "stopped"
        self.abandon()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _settle(self, index: int) -> None:
        """A message rule stopped while it ran: its message is settled once no attempt holds
        it (a worker that died holding it gets no retry now); one that may have gone out is
        counted unconfirmed, for an operator."""
        status: str | None = await workflow.execute_activity(
            SETTLE_STOPPED_MESSAGE,
            self._run_key(index),
            result_type=str,
            start_to_close_timeout=SETTLE_PATIENCE * 2,
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            summary=f"{self._visit.stage}: settle the message of {self._label(index)}",
        )
        if status == "unconfirmed":
            self._order.count_unconfirmed_message()
            self._order.record("message_unconfirmed", f"{self._label(index)}: its message may have gone out "
                               "as the worker stopped; not sent again (an operator may resend it)")  # fmt: skip

    def _run_key(self, index: int) -> str:
        return f"{self._order.order_id}/{self._visit.visit}/{index}"

    def abandon(self) -> None:
        """Cancels everything at once, without waiting: for the hand-over to a new run,
        which resumes each branch from the state."""
        self._stopping = True
        for handle in self._handles:
            handle.cancel()
        for task in self._tasks:
            task.cancel()

    def status(self, index: int) -> Literal["done", "skipped", "failed", "stopped", "running", "waiting", "pending"]:
        if index in self._visit.outcomes:
            return self._visit.outcomes[index]
        for branch in self._visit.branches:
            if index in branch.rules:
                position = branch.rules.index(index)
                if position < branch.position:
                    return "done"  # a state carried from before outcomes were kept
                if position > branch.position:
                    return "pending"
                return "running" if index in self._running else "waiting"
        return "pending"

    def _label(self, index: int) -> str:
        return f"rule {index + 1} ({self._stage.rules[index].label})"

    async def _run_branch(self, branch: Branch) -> None:
        try:
            while not branch.done and not self._finished:
                rule = self._stage.rules[branch.rules[branch.position]]
                if await self._run_rule(branch, rule) == "stop":
                    return
        except Exception as err:  # a bug, not a rule's failure: say so rather than stop silently
            if branch.done:
                self._order.record("rule_failed", f"after its last rule: internal error {type(err).__name__}: {err}")
                return
            label = self._label(branch.rules[branch.position])
            self._fail(branch, f"{label}: failed, internal error {type(err).__name__}: {err}")

    async def _run_rule(self, branch: Branch, rule: RuleSpec) -> Step:
        label = self._label(branch.rules[branch.position])
        trace = self._trace(branch)
        try:  # checked first: its kind or params may have changed since the order began
            kind, params = rule.runnable()
        except RuleUnavailable as err:
            self._fail(branch, f"{label}: failed, {err}")
            return "stop"
        if not branch.ready:
            if rule.delay is not None:
                if branch.due_at is None:
                    due = rule.delay.due_at(branch.ready_at, self._order.values())
                    if due is None:
                        return self._skip(branch, f"{label}: skipped, {rule.delay.field} holds no date")
                    branch.due_at = due
                if trace is not None:
                    trace |= {"delay": str(rule.delay), "due_at": branch.due_at.isoformat()}
                await self._sleep_until(branch.due_at, f"{label}: delay {rule.delay}")
                if self._finished:
                    return "stop"
            if rule.condition is not None:
                values = await self._order.condition_values(rule.condition)
                holds = rule.condition.holds(values)
                if trace is not None:
                    compared = rule.condition.explained(values)
                    trace["condition"] = {"text": str(rule.condition), "compared": compared, "holds": holds}
                if not holds:
                    return self._skip(branch, f"{label}: skipped, condition not met ({rule.condition})")
            if isinstance(before := params.effect_before_action(), HoldForCustomer):
                branch.wait_outcome = await self._wait_for_customer(branch, before, label)
                if self._finished:
                    return "stop"
            branch.ready = True  # kept across a hand-over: the condition is not checked again
        # Waited for only when paused: today a rule starts in the workflow task that made it ready.
        if self._order.starts_paused or not self._order.has_patch(RULES_START_AT_ONCE):
            await workflow.wait_condition(lambda: not self._order.starts_paused or self._finished)
        if self._finished:  # the order moved on (or a Change status of this stage won): nothing more runs here
            return "stop"
        wait = branch.wait_outcome or branch.last_wait  # this rule's Wait, or the last one before it
        extra = {"wait": wait} if wait else {}
        return await self._run_activity(branch, rule, kind, label, extra)

    def _trace(self, branch: Branch) -> dict[str, Any] | None:
        """A test order's notes on the branch's current rule, for its test log (None: no test)."""
        if not self._order.is_test:
            return None
        index = branch.rules[branch.position]
        return self._traces.setdefault(index, {"ready_at": branch.ready_at.isoformat()})

    def _test_data(self, index: int) -> dict[str, Any]:
        trace = self._traces.pop(index, None)
        return {"test": bounded(trace)} if trace is not None else {}

    def _fail(self, branch: Branch, message: str) -> None:
        """Records the failure; the rules chained after it do not run."""
        self._order.record("rule_failed", message, **self._test_data(branch.rules[branch.position]))
        self._visit.outcomes[branch.rules[branch.position]] = "failed"
        for rest in branch.rules[branch.position + 1 :]:
            self._order.record("rule_skipped", f"{self._label(rest)}: skipped, the rule before it failed")
            self._visit.outcomes[rest] = "skipped"
        branch.position = len(branch.rules)

    async def _start_child(self, index: int, run_key: str, label: str, request: StartChildWorkflow) -> None:
        """Abandoned when the order moves on: a started workflow lives its own life."""
        order_id = self._order.order_id
        try:
            await workflow.start_child_workflow(
                request.workflow,
                ChildInput(order_id=order_id, run_key=run_key, input=request.input),
                # From the order id, not the run's workflow id: the same on every run and replay.
                id=f"{workflow_id(order_id)}-{request.workflow}-{run_key.replace('/', '-')}",
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                cancellation_type=workflow.ChildWorkflowCancellationType.ABANDON,
                static_summary=f"{request.workflow} for order {order_id}",
            )
        except WorkflowAlreadyStartedError:
            pass  # started by this very rule run before (a retry after a hand-over): once it is
        except FailureError as err:
            self._visit.outcomes[index] = "failed"
            self._order.record("rule_failed", f"{label}: its workflow {request.workflow!r} did not start: {err}")

    def _skip(self, branch: Branch, message: str) -> Step:
        self._order.record("rule_skipped", message, **self._test_data(branch.rules[branch.position]))
        self._visit.outcomes[branch.rules[branch.position]] = "skipped"
        branch.advance(workflow.now())
        return "next"

    async def _sleep_until(self, moment: datetime, summary: str) -> None:
        remaining = moment - workflow.now()
        if remaining <= timedelta(0):
            return
        if not self._order.is_test:
            await workflow.sleep(remaining, summary=summary)
            return
        skipped = self._order.pauses_skipped  # a test order's pause ends early when the admin skips it
        self.pauses_pending += 1
        try:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._order.pauses_skipped > skipped, timeout=remaining, timeout_summary=summary
                )
        finally:
            self.pauses_pending -= 1

    async def _wait_for_customer(self, branch: Branch, hold: HoldForCustomer, label: str) -> dict[str, str]:
        """``HoldForCustomer`` (Wait): until customer activity after it began, or its deadline."""
        if not branch.wait_started:
            timeout = hold.timeout
            branch.wait_deadline = timeout.due_at(workflow.now(), self._order.values()) if timeout else None
            branch.wait_mark, branch.wait_started = self._order.customer_activity()[0], True
            until = f" until {branch.wait_deadline.isoformat()}" if branch.wait_deadline else ""
            if timeout is not None and branch.wait_deadline is None:
                until = f" (no deadline: {timeout.field} holds no date)"
            self._order.record("rule_waiting", f"{label}: waiting for customer activity{until}")
        mark, deadline = branch.wait_mark or 0, branch.wait_deadline
        timed_out = {"ended_by": "timeout", "reason": "no customer activity before the deadline"}
        if self._customer_acted_since(mark):  # checked first: a wait resumed late may have ended either way
            return self._ended_by_customer()
        if deadline is not None and deadline <= workflow.now():
            return timed_out
        skipped = self._order.pauses_skipped  # only a test order's can change
        self.pauses_pending += 1
        try:
            await workflow.wait_condition(
                lambda: self._customer_acted_since(mark) or self._order.pauses_skipped > skipped,
                timeout=None if deadline is None else deadline - workflow.now(),
                timeout_summary=f"{label}: give up waiting",
            )
        except TimeoutError:
            return timed_out
        finally:
            self.pauses_pending -= 1
        if not self._customer_acted_since(mark):
            return {"ended_by": "timeout", "reason": "skipped in test mode"}
        return self._ended_by_customer()

    def _customer_acted_since(self, mark: int) -> bool:
        return self._order.customer_activity()[0] > mark

    def _ended_by_customer(self) -> dict[str, str]:
        return {"ended_by": "customer_activity", "reason": f"customer activity ({self._order.customer_activity()[1]})"}

    async def _run_activity(
        self, branch: Branch, rule: RuleSpec, kind: RuleKind[Any], label: str, extra: dict[str, Any]
    ) -> Step:
        index = branch.rules[branch.position]
        rule_input = RuleInput(
            order_id=self._order.order_id,
            run_key=self._run_key(index),
            stage=self._visit.stage,
            rule_index=index,
            rule_type=rule.type,
            params=rule.params,
            values={**self._order.values(), **extra},
            test=self._order.is_test,
        )
        if (trace := self._trace(branch)) is not None:
            trace |= {"started_at": workflow.now().isoformat(), "read": read_values(rule, rule_input.values)}
        self._order.record("rule_started", f"{label}: started", rule=rule.type)
        # A rule that may run long carries the write; one that only touches the store does not.
        held, rule_input.store_write = self._order.hold_store_write(carried=not kind.store_only)
        handle = workflow.start_activity(
            kind.name,
            rule_input,
            result_type=RuleResult,
            start_to_close_timeout=kind.start_to_close,
            heartbeat_timeout=kind.heartbeat,
            retry_policy=kind.retry,
            summary=f"{self._visit.stage}: {label}",
        )
        self._handles.append(handle)
        self._running.add(index)  # until its result is applied: no hand-over in between
        try:
            try:
                result = await handle
            except ActivityError as err:
                if self._stopping:  # cancelled because the order left the stage; stop() says so
                    return "stop"
                self._fail(branch, f"{label}: failed, {_cause(err)}")
                return "stop"
            finally:
                self._handles.remove(handle)
                if held:
                    self._order.release_store_write()
            if (problem := self._result_problem(kind, result)) is not None:
                self._fail(branch, f"{label}: failed, {problem}")
                return "stop"
            # Applied even if the order left the stage meanwhile: the rule did run.
            self._visit.outcomes[index] = "done"
            test = self._traces.pop(index, None)
            self._order.take_rule_result(self._visit, rule_input.run_key, label, rule.type, result, test)
            branch.advance(workflow.now())
        finally:
            self._running.discard(index)
        await self._take_effect(index, rule_input.run_key, label, result.effect)
        return "stop" if self._finished else "next"

    def _result_problem(self, kind: RuleKind[Any], result: RuleResult) -> str | None:
        if result.effect is not None and (kind.effect is None or not isinstance(result.effect, kind.effect)):
            return f"it returned the effect {result.effect.kind!r}, which {kind.name} does not have"
        return self._order.rule_result_problem(result)

    async def _take_effect(self, index: int, run_key: str, label: str, effect: ResultEffect | None) -> None:
        """What the rule does to the order's workflow (``automation/effects.py``)."""
        match effect:
            case MoveOrder(stage=stage):
                self._order.move_after_rule(self._visit, stage, label)
            case EndOrder():
                self._order.end_after_rule(self._visit)
            case StartChildWorkflow():
                # Kept by the order, not by this stage: a stage change while the child starts does
                # not undo it, and the order neither hands over nor ends before it has started.
                starting = self._start_child(index, run_key, label, effect)
                await asyncio.shield(self._order.outlive_stage(asyncio.ensure_future(starting)))
