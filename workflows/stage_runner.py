"""Runs the rules of the stage an order is in, as parallel branches.

Within a branch each rule goes: its delay (a durable timer, counted from when the rule
before it finished, or from stage entry), then its condition (checked against the order
as it is then), then, for a Wait, the durable wait, then its activity. Progress lives in
the order's state (``Branch``), so a continue-as-new resumes each branch where it was.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.messages import SETTLE_PATIENCE
    from activities.registry import RULE_TYPES
    from activities.rules.wait import WaitParams
    from automation.children import ChildInput
    from automation.order import workflow_id
    from automation.pipeline import RuleSpec
    from automation.rules import ChildWorkflowRequest, RuleInput, RuleResult
    from automation.state import Branch, StageVisit

if TYPE_CHECKING:
    from workflows.order import OrderWorkflow

Step = Literal["next", "stop"]
SETTLE_PATCH = "settle-stopped-messages"


def _cause(err: BaseException) -> str:
    """The innermost failure's own message (an activity error wraps the real one)."""
    while err.__cause__ is not None:
        err = err.__cause__
    return err.message if isinstance(err, FailureError) else str(err)


class StageRunner:
    def __init__(self, order: OrderWorkflow, visit: StageVisit) -> None:
        self._order = order
        self._visit = visit
        self._stage = order.state.pipeline.stage(visit.stage)
        self._tasks: list[asyncio.Task[None]] = []
        self._handles: list[workflow.ActivityHandle[RuleResult]] = []
        """In start order, so that they are cancelled in the same order on every replay."""
        self._stopping = False
        self._running: set[int] = set()
        """Indexes of the rules whose activity is in flight."""

    @property
    def _over(self) -> bool:
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
            if RULE_TYPES[self._stage.rules[index].type].sends_messages and workflow.patched(SETTLE_PATCH):
                self._order.keep(asyncio.ensure_future(self._settle(index)))
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
            "settle_stopped_message",
            self._run_key(index),
            result_type=str,
            start_to_close_timeout=SETTLE_PATIENCE * 2,
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            summary=f"{self._visit.stage}: settle the message of {self._label(index)}",
        )
        if status == "unconfirmed":
            self._order.state.unconfirmed_messages += 1
            self._order.record("message_unconfirmed", f"{self._label(index)}: its message may have gone out "
                               "as the worker stopped; not sent again (an operator may resend it)")  # fmt: skip

    def _run_key(self, index: int) -> str:
        return f"{self._order.state.order.order_id}/{self._visit.visit}/{index}"

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
            while not branch.done and not self._over:
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
        if not branch.ready:
            if rule.delay is not None:
                if branch.due_at is None:
                    due = rule.delay.due_at(branch.ready_at, self._order.values())
                    if due is None:
                        return self._skip(branch, f"{label}: skipped, {rule.delay.field} holds no date")
                    branch.due_at = due
                await self._sleep_until(branch.due_at, f"{label}: delay {rule.delay}")
                if self._over:
                    return "stop"
            if rule.condition is not None and not rule.condition.holds(self._order.values()):
                return self._skip(branch, f"{label}: skipped, condition not met ({rule.condition})")
            if RULE_TYPES[rule.type].holds_branch:
                branch.wait_outcome = await self._hold(branch, rule, label)
                if self._over:
                    return "stop"
            branch.ready = True  # kept across a hand-over: the condition is not checked again
        await workflow.wait_condition(lambda: not self._order.draining or self._over)
        if self._over:  # the order moved on (or a Change status of this stage won): nothing more runs here
            return "stop"
        wait = branch.wait_outcome or branch.last_wait  # this rule's Wait, or the last one before it
        extra = {"wait": wait} if wait else {}
        return await self._act(branch, rule, label, extra)

    def _fail(self, branch: Branch, message: str) -> None:
        """Records the failure; the rules chained after it do not run."""
        self._order.record("rule_failed", message)
        self._visit.outcomes[branch.rules[branch.position]] = "failed"
        for rest in branch.rules[branch.position + 1 :]:
            self._order.record("rule_skipped", f"{self._label(rest)}: skipped, the rule before it failed")
            self._visit.outcomes[rest] = "skipped"
        branch.position = len(branch.rules)

    async def _start_child(self, index: int, run_key: str, label: str, request: ChildWorkflowRequest) -> None:
        """Abandoned when the order moves on: a started workflow lives its own life."""
        order_id = self._order.state.order.order_id
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
        self._order.record("rule_skipped", message)
        self._visit.outcomes[branch.rules[branch.position]] = "skipped"
        branch.advance(workflow.now())
        return "next"

    async def _sleep_until(self, moment: datetime, summary: str) -> None:
        remaining = moment - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining, summary=summary)

    async def _hold(self, branch: Branch, rule: RuleSpec, label: str) -> dict[str, str]:
        """The Wait rule: until customer activity after it began, or its deadline."""
        assert isinstance(rule.params, WaitParams)
        state = self._order.state
        if not branch.wait_started:
            timeout = rule.params.timeout
            branch.wait_deadline = timeout.due_at(workflow.now(), self._order.values()) if timeout else None
            branch.wait_mark, branch.wait_started = state.customer_activity, True
            until = f" until {branch.wait_deadline.isoformat()}" if branch.wait_deadline else ""
            if timeout is not None and branch.wait_deadline is None:
                until = f" (no deadline: {timeout.field} holds no date)"
            self._order.record("rule_waiting", f"{label}: waiting for customer activity{until}")
        mark, deadline = branch.wait_mark or 0, branch.wait_deadline
        activity = {"ended_by": "customer_activity", "reason": f"customer activity ({state.last_customer_activity})"}
        timed_out = {"ended_by": "timeout", "reason": "no customer activity before the deadline"}
        if state.customer_activity > mark:  # checked first: a wait resumed late may have ended either way
            return activity
        if deadline is not None and deadline <= workflow.now():
            return timed_out
        try:
            await workflow.wait_condition(
                lambda: state.customer_activity > mark,
                timeout=None if deadline is None else deadline - workflow.now(),
                timeout_summary=f"{label}: give up waiting",
            )
        except TimeoutError:
            return timed_out
        return {**activity, "reason": f"customer activity ({state.last_customer_activity})"}

    async def _act(self, branch: Branch, rule: RuleSpec, label: str, extra: dict[str, Any]) -> Step:
        rule_type = RULE_TYPES[rule.type]
        index = branch.rules[branch.position]
        order_id = self._order.state.order.order_id
        rule_input = RuleInput(
            order_id=order_id,
            run_key=self._run_key(index),
            stage=self._visit.stage,
            rule_index=index,
            rule_type=rule.type,
            params=rule.params.model_dump(mode="json"),
            values={**self._order.values(), **extra},
        )
        self._order.record("rule_started", f"{label}: started", rule=rule.type)
        handle = workflow.start_activity(
            rule_type.kind,
            rule_input,
            result_type=RuleResult,
            start_to_close_timeout=rule_type.start_to_close,
            heartbeat_timeout=rule_type.heartbeat,
            retry_policy=rule_type.retry,
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
            if (problem := self._order.rule_result_problem(result)) is not None:
                self._fail(branch, f"{label}: failed, {problem}")
                return "stop"
            # Applied even if the order left the stage meanwhile: the rule did run.
            self._visit.outcomes[index] = "done"
            self._order.apply_rule_result(self._visit, rule_input.run_key, label, rule.type, result)
            branch.advance(workflow.now())
        finally:
            self._running.discard(index)
        if result.child_workflow is not None:
            # Kept by the order, not by this stage: a stage change while the child starts does
            # not undo it, and the order neither hands over nor ends before it has started.
            starting = self._start_child(index, rule_input.run_key, label, result.child_workflow)
            await asyncio.shield(self._order.keep(asyncio.ensure_future(starting)))
        return "stop" if self._over else "next"
