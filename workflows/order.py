"""One long-lived workflow per order: it takes events in arrival order, lets triggers
move the order between stages, and runs each stage's rules while the order is there.

Ingress: the ``event`` signal (fire and forget) and the ``apply_event`` update (answers
the stage after the event); both work with signal-/update-with-start. Handlers only
queue; the main loop does the work, one event at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

from automation import limits, search
from automation.conditions import Condition
from automation.contracts import (
    CONSTANTS_NOW,
    LOAD_PIPELINE,
    RESEND_MESSAGE,
    SAVE_ORDER,
    START_ORDER,
    START_VERSIONED_ORDER,
    VERSION_AT_ENTRY,
    ConstantsWanted,
    ResendInput,
    ResendResult,
    SaveOrderInput,
    StageEntry,
    VersionAtEntry,
)
from automation.effects import EndOrder
from automation.errors import describe
from automation.events import (
    EVENT_TYPES,
    ChatMessageData,
    InvalidEvent,
    ResponsibleChangedData,
    Source,
    parse_event,
    seen_key,
)
from automation.matching import match_trigger
from automation.models import INSIDE, json_size
from automation.order import NewOrder, workflow_id
from automation.pipeline import Pipeline
from automation.references import reads
from automation.rules import RuleResult, result_problem
from automation.state import (
    WORKFLOW_VERSION,
    Branch,
    EventOutcome,
    OrderInput,
    OrderState,
    OrderView,
    PendingEvent,
    ResendOutcome,
    ResendRequest,
    RuleStatus,
    StageVisit,
    TimelineEntry,
    TimelineKind,
)
from automation.testlog import bounded, changes_of
from automation.timeline import Timeline
from automation.variables import typed, types_of
from automation.versions import content_hash
from workflows.stage_runner import RULES_START_AT_ONCE, SETTLE_PATCH, StageRunner

VERSION_PATCH = "workflow-version-{}"
"""For a run whose input does not say its ``workflow_version`` (a run begun before versions, or
one a client of another language started): a new run takes today's behaviour, with this one
marker (of today's version); a history with the marker of an earlier version replays that
version; one without any replays its patches one by one, as it ran."""
LIMITS_PATCH = "limits-2026-12"
"""Orders started before ``automation/limits.py`` replay without its limits."""
START_ORDER_PATCH = "start-order-local-activity"
"""The pipeline comes with a local activity that also stores the arrival (``START_ORDER``)."""
WHEN_IDLE_PATCH = "publish-and-store-when-idle"
"""Search attributes and store writes go out once per workflow task, when the order is idle."""
PIPELINE_VERSIONS_PATCH = "pipeline-versions"
"""The order knows the version of its pipeline, and takes the newest as it enters a stage."""
CONDITION_CONSTANTS_PATCH = "condition-constants-now"
"""A rule's condition reads the constants an admin set as they are when the rule is due
(a local activity, only for a condition that reads constants)."""
TRIGGER_CONSTANTS_PATCH = "trigger-constants-now"
"""The same for a trigger's condition, as the event comes: a patch of its own, since orders
that took the one above for their rules matched triggers on the file's values."""
CARRIED_WRITE_PATCH = "rule-carries-store-write"
"""The store write of a workflow task that starts a rule activity waits for the rule's result
(``hold_store_write``), rather than go as a local activity of its own; the activity of a rule
that may run long carries it, and makes it if the rule does."""
QUIET_REFUSALS_PATCH = "refusals-only-without-move"
"""The triggers an event would have taken back to an earlier stage are recorded only when no
trigger moves the order: once one does, they explain nothing (a test order's log has every
trigger's verdict all the same)."""
LONGER_VERSION_WINDOW_PATCH = "version-known-for-5s"
"""An order that learnt it runs the newest version asks again after ``VERSION_KNOWN_FOR``
(5 s), not after a second: a burst of stage changes takes one check, not one each."""
ANNOUNCED_VERSIONS_PATCH = "announced-versions"
"""Whoever stores a version announces it to the running orders of its pipeline (the
``pipeline_version`` signal): an order asks which version it enters a stage under when one was
announced since it last asked, and otherwise only once ``VERSION_ASKED_AFTER`` has passed."""
_VERSION_1 = frozenset(
    {
        LIMITS_PATCH,
        START_ORDER_PATCH,
        WHEN_IDLE_PATCH,
        RULES_START_AT_ONCE,
        SETTLE_PATCH,
        "responsible-from-events",
        "same-stage-move-keeps-rules",
    }
)
_VERSION_2 = _VERSION_1 | {PIPELINE_VERSIONS_PATCH}
_VERSION_3 = _VERSION_2 | {CONDITION_CONSTANTS_PATCH, TRIGGER_CONSTANTS_PATCH, CARRIED_WRITE_PATCH}
PATCHES_OF_VERSION: dict[int, frozenset[str]] = {
    1: _VERSION_1,
    2: _VERSION_2,
    3: _VERSION_3,
    4: _VERSION_3 | {QUIET_REFUSALS_PATCH},
    5: _VERSION_3 | {QUIET_REFUSALS_PATCH, LONGER_VERSION_WINDOW_PATCH},
    6: _VERSION_3 | {QUIET_REFUSALS_PATCH, LONGER_VERSION_WINDOW_PATCH, ANNOUNCED_VERSIONS_PATCH},
}
"""What a run of each ``workflow_version`` has with no marker. A later change takes a new patch
(a marker in every run, as Temporal's patches do) until a new version folds it in here."""
HISTORY_BOUND = 10_000
"""Continue as new here at the latest, even if the server has not suggested it yet."""
STORE_WRITE: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=2),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
    "local_retry_threshold": timedelta(seconds=0.5),
}
"""The store write is a local activity, which holds its workflow task open while it runs:
a slow or stopped store must not keep the order from answering queries and taking
updates for long. An attempt gets 2 s; each retry waits on a durable timer, with the
workflow task closed meanwhile."""
VERSION_CHECK: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=2),
    "retry_policy": RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=3),
}
"""The version check as an order enters a stage: a few quick tries, then the order goes on
with its version rather than wait for a store that is down."""
VERSION_ASKED_AFTER = timedelta(minutes=1)
"""An order that learnt within this time (by its workflow's clock) that it runs the newest
version enters its next stage without asking again, unless a version is announced to it
meanwhile (``ANNOUNCED_VERSIONS_PATCH``): a version stored without an announcement (the
announcer could not reach Temporal) reaches it at its next stage entry after that. It learns
it at its start, from a version check, and from a store write that found the worker knowing."""
VERSION_KNOWN_FOR = timedelta(seconds=5)
"""The same for runs with ``LONGER_VERSION_WINDOW_PATCH`` but not the announcements."""
VERSION_KNOWN_FOR_BEFORE = timedelta(seconds=1)
"""The same for runs with neither."""
STORE_BEHIND_AFTER = timedelta(seconds=10)
"""A store write retrying this long, with the timeline backlogged: the store is down, and
continue-as-new takes what waits for it along rather than wait for it."""
AUTOMATIC_MOVES_LIMIT = 10
AUTOMATIC_MOVES_WINDOW = timedelta(hours=1)
"""At most this many stage changes caused by the engine itself (its rules, the events it
raises) per order in the window: two triggers bouncing an order cannot spin forever."""
AUTOMATIC_MOVES_IN_A_ROW = 30
"""And at most this many with no event from a service or a customer in between, however
slowly they come (a loop whose rules wait an hour between moves)."""


class NewerWorkflowVersion(Exception):
    """Fails the workflow task (Temporal retries it) rather than the order: a worker of newer
    code, during a rolling deploy, takes it up."""


@dataclass
class _Queued:
    raw: Any
    """The event as received: any JSON, so that even a malformed one is refused visibly."""
    ticket: int | None = None
    """Set for updates: the handler waits for the outcome under this number."""
    internal: bool = False
    """Raised by the engine's own rules: a stage change it causes is automatic."""


def _branches(pipeline: Pipeline, stage_id: str) -> list[Branch]:
    return [Branch(rules=rules, ready_at=workflow.now()) for rules in pipeline.stage(stage_id).branches()]


def _fits(items: list[Any], most: int) -> bool:
    """Whether ``items`` weigh at most ``most`` bytes of JSON (stopping once they do not)."""
    total = 0
    for item in items:
        total += json_size(item)
        if total > most:
            return False
    return True


def _version_by_marker() -> int:
    """The ``workflow_version`` of a run whose input does not say it (``VERSION_PATCH``)."""
    for version in range(WORKFLOW_VERSION, 0, -1):
        if workflow.patched(VERSION_PATCH.format(version)):
            return version
    return 0


# Outside Temporal's sandbox: it would compile this module again for every order it loads
# (10 ms each, where bytecode is not cached) and wrap every activation. Its code and what
# it imports must be deterministic on their own: ``tests/core/test_determinism.py`` holds
# them to it, and the replay of ``tests/histories/`` to their past behaviour.
@workflow.defn(name="Order", sandboxed=False)
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: Any) -> None:
        # Plain JSON (an OrderInput): a new order is checked in ``run``, so that one that
        # cannot start fails at once, saying why, instead of failing its workflow task forever.
        carried_state = input.get("state") if isinstance(input, dict) else None
        self._state = OrderInput.model_validate(input, context=INSIDE).state if carried_state else None
        self._not_started: str | None = None
        """Why the order could not start, once it is known."""
        carried = self._state.pending_events if self._state else []
        self._queue: deque[_Queued] = deque(_Queued(p.raw, internal=p.internal) for p in carried)
        self._moves: deque[tuple[int, str, str]] = deque()
        self._outcomes: dict[int, EventOutcome] = {}
        self._tickets = 0
        self._runner: StageRunner | None = None
        self._upserted: dict[SearchAttributeKey[str], str | None] = {}
        """The search attributes this run has set: an upsert sends only what changed."""
        self._flushing = False
        self._outliving: list[asyncio.Task[None]] = []
        """Work that outlives the stage that began it (child workflow starts, message settling)."""
        self._draining = False
        self._timeline = Timeline(self._state) if self._state else None
        self._resends = 0
        self._pauses_skipped = 0  # a test order's "skip this pause" (skip_pause), counted
        self._store_write_started: datetime | None = None
        self._limited = False
        """Whether this run holds to ``automation/limits.py`` (runs begun before it replay without)."""
        self._patches: frozenset[str] = frozenset()
        """The patches this run has by its version, with no marker."""
        self._arrival_saved = False
        """START_ORDER stored the customer card and shipments: the first store write need not."""
        self._when_idle = False
        """Whether search attributes and store writes wait for the order to be idle (``WHEN_IDLE_PATCH``)."""
        self._stale = False
        """The search attributes and details lag behind the order: they go out when it is idle."""
        self._waiting_for: Callable[[], bool] | None = None
        """What the main loop waits for, while it waits."""
        self._leaving = False
        """The order is about to leave its stage (it checks which version it enters the next
        under): no rule of the stage starts meanwhile; they go on if it stays after all."""
        self._held_up_to: int | None = None
        """A rule activity in flight holds the order's store write up to this entry."""
        self._newest_at: datetime | None = None
        """When the order last learnt that it runs the newest version (not carried across
        continue-as-new: the new run asks at its first stage entry)."""
        self._announced: int | None = None
        """The newest version of its pipeline announced to the order since it last asked."""

    # --- ingress ----------------------------------------------------------------------

    @workflow.signal(name="event", description="An event for this order (JSON, see Event). Fire and forget.")
    def event(self, event: Any) -> None:
        self._queue.append(_Queued(event))

    @workflow.signal(
        name="pipeline_version",
        description="A version of the order's pipeline was stored (JSON: pipeline_id, number): the order takes "
        "it at its next stage entry. Sent to the running orders of the pipeline by whoever stores one.",
    )
    def pipeline_version(self, announced: Any) -> None:
        # A hint, not a command: the order still asks the store which version is the newest
        # (a wrong announcement costs one check), so anything unexpected is ignored.
        if not isinstance(announced, dict) or (self._state and announced.get("pipeline_id") != self._state.pipeline.id):
            return
        number = announced.get("number")
        runs = self._state.pipeline_version if self._state else None
        if isinstance(number, int) and not isinstance(number, bool) and number > max(self._announced or 0, runs or 0):
            self._announced = number

    @workflow.update(name="apply_event", description="An event for this order; answers what it did.")
    async def apply_event(self, event: Any) -> EventOutcome:
        self._tickets += 1
        ticket = self._tickets
        self._queue.append(_Queued(event, ticket))
        await workflow.wait_condition(lambda: ticket in self._outcomes)
        return self._outcomes.pop(ticket)

    @apply_event.validator
    def _validate_event(self, event: Any) -> None:
        # Refused before it reaches history: the order is unchanged. Non-retryable, with
        # a stable type and one detail per problem, for clients in any language.
        if self._state is not None and self._state.ended:
            raise ApplicationError("the order was deleted: it takes no more events", type="OrderDeleted",
                                   non_retryable=True)  # fmt: skip
        try:
            parse_event(event, "temporal")
        except InvalidEvent as err:
            raise ApplicationError("invalid event", *err.problems, type="InvalidEvent", non_retryable=True) from None

    @workflow.update(
        name="resend_message",
        description="An operator resends a message whose fate is unknown (by its run key); answers how it went.",
    )
    async def resend_message(self, request: ResendRequest) -> ResendOutcome:
        state = self.state
        self._resends += 1
        key = f"{request.run_key}/resend-{state.runs}-{self._resends}"  # a new message for the provider
        self.record("message_resend", f"message {request.run_key}: resend asked by {request.by}")
        try:
            result = await workflow.execute_activity(
                RESEND_MESSAGE,
                ResendInput(run_key=request.run_key, by=request.by, key=key),
                result_type=ResendResult,
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=None,
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=8),
                summary=f"resend {request.run_key}",
            )
        except ActivityError as err:
            reason = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            self.record("message_resend", f"message {request.run_key}: not resent, {reason}")
            raise ApplicationError(reason, type="NotResent", non_retryable=True) from None
        if result.status == "sent":
            state.unconfirmed_messages = max(0, state.unconfirmed_messages - 1)
        self.record("message_resend", f"message {request.run_key} resent by {request.by}: {result.summary}")
        return ResendOutcome(run_key=request.run_key, status=result.status, message=result.summary)

    @resend_message.validator
    def _validate_resend(self, request: ResendRequest) -> None:
        if self._state is None or self._state.ended:
            raise ApplicationError("the order is not running", type="OrderDeleted", non_retryable=True)
        if not request.run_key.startswith(f"{self._state.order.order_id}/"):
            raise ApplicationError(f"message {request.run_key!r} is not this order's", type="NotResent",
                                   non_retryable=True)  # fmt: skip

    @workflow.update(
        name="skip_pause",
        description="A test order only: its stage's delays and Waits end now, as if their time had come.",
    )
    async def skip_pause(self) -> str:
        pending = self._runner.pauses_pending if self._runner is not None else 0
        stage = self.state.current.stage
        if not pending:
            return f"nothing to skip: no delay or Wait is under way at stage {stage!r}"
        self._pauses_skipped += 1
        self.record("test_log", f"pauses skipped: {pending} delay(s) and Wait(s) of the stage end now")
        return f"{pending} pause(s) of order {self.state.order.order_id} skipped at stage {stage!r}"

    @skip_pause.validator
    def _validate_skip(self) -> None:
        if self._state is None or self._state.ended:
            raise ApplicationError("the order is not running", type="OrderDeleted", non_retryable=True)
        if not self._state.order.test:
            raise ApplicationError("only a test order's pauses can be skipped: this is a real order",
                                   type="NotATestOrder", non_retryable=True)  # fmt: skip

    @property
    def pauses_skipped(self) -> int:
        return self._pauses_skipped

    @workflow.query(name="state", description="Stage, variables, rules of the stage, latest timeline.")
    def view(self) -> OrderView:
        state = self.state
        stage = state.pipeline.stage(state.current.stage)
        rules = [
            RuleStatus(
                index=i, type=r.type, title=r.label, status=self._runner.status(i) if self._runner else "pending"
            )
            for i, r in enumerate(stage.rules)
        ]
        return OrderView(
            order_id=state.order.order_id,
            test=state.order.test,
            pipeline_id=state.pipeline.id,
            pipeline_version=state.pipeline_version,
            stage=stage.id,
            stage_title=stage.title,
            responsible_id=state.responsible_id,
            customer_id=state.order.customer.id if state.order.customer else None,
            fields=state.fields,
            variables=state.variables,
            variable_types=types_of(state.pipeline.variables, state.variables),
            rules=rules,
            pending_events=len(self._queue),
            runs=state.runs,
            unconfirmed_messages=state.unconfirmed_messages,
            idle=state.ended or ((self._idle() or not self._when_idle) and not self._unflushed()),
            timeline=state.timeline,
        )

    # --- the order's life -------------------------------------------------------------

    @workflow.run
    async def run(self, input: Any) -> None:
        declared = input.get("workflow_version") if isinstance(input, dict) else None
        declared = declared if isinstance(declared, int) else 0
        if declared > WORKFLOW_VERSION:  # run as an older version, it would not replay on the newer code
            raise NewerWorkflowVersion(f"the order is of workflow version {declared}, this worker runs up to "
                                       f"{WORKFLOW_VERSION}: a newer worker must run it")  # fmt: skip
        version = declared or _version_by_marker()
        self._patches = PATCHES_OF_VERSION.get(version, frozenset())
        self._limited = self.has_patch(LIMITS_PATCH)
        self._when_idle = self.has_patch(WHEN_IDLE_PATCH)
        new = self._state is None
        if self._state is None:
            self._state = await self._new_state(self._new_order(input))
        self._publish()
        flusher = asyncio.create_task(self._flush_forever())
        # The customer card is in the store before any rule reads it (today START_ORDER saves
        # it). Patched: orders that started before this change go on as they began.
        if new and not self._arrival_saved and workflow.patched("store-before-rules"):
            await workflow.wait_condition(lambda: not self._unflushed())
        self._runner = self._stage_runner()
        self._runner.start()
        while True:
            await self._idle_until(lambda: self._has_work() or self._should_continue_as_new() or self.state.ended)
            if self.state.ended:
                await self._end()
                return
            if self._has_work():
                await self._next_piece_of_work()
                continue
            self._draining = True  # rules start no new activity from here on
            await self._idle_until(lambda: self._has_work() or self._ready_to_hand_over())
            if not self._has_work():
                break
        # No await from the check above to the hand-over: nothing can slip in between.
        self._publish_now()
        self._runner.abandon()
        flusher.cancel()
        state = self.state
        length = workflow.info().get_current_history_length()
        self.record("continued_as_new", f"history of {length} events handed over to run {state.runs + 1}")
        state.pending_events = [PendingEvent(raw=item.raw, internal=item.internal) for item in self._queue]
        state.runs += 1
        workflow.continue_as_new(OrderInput(order=state.order, state=state))

    async def _end(self) -> None:
        """The order was deleted: its rules stop, later events are refused, the store is
        brought up to date, and the workflow completes."""
        assert self._runner is not None
        await self._runner.stop()
        self.record("order_deleted", "order deleted: its workflow ends")
        while True:
            while self._queue:
                item = self._queue.popleft()
                event_id = item.raw.get("event_id") if isinstance(item.raw, dict) else None
                self.record("event_refused", "event refused: the order was deleted")
                if item.ticket is not None:
                    self._outcomes[item.ticket] = self._outcome(event_id, "refused", "the order was deleted")
            # Signals still arrive until the workflow completes (the update validator
            # refuses updates): each one is refused in the timeline too, none is dropped.
            await self._idle_until(lambda: bool(self._queue) or self._settled())
            if not self._queue:
                self._publish_now()
                return

    async def _idle_until(self, condition: Callable[[], bool]) -> None:
        """The main loop waits for ``condition``. Meanwhile the order is idle: what was held
        for that goes out, once for all the changes of the workflow task rather than at each
        (the search attributes here, the store write in ``_flush_forever``)."""
        if not self._when_idle:  # runs begun before it wait as they did
            await workflow.wait_condition(condition)
            return
        while not condition():
            self._publish_now()
            self._waiting_for = condition
            try:
                await workflow.wait_condition(lambda: condition() or self._stale)
            finally:
                self._waiting_for = None

    def _idle(self) -> bool:
        """The main loop waits, and not for something that has just come: the changes of this
        workflow task are made (the rules have started what they start)."""
        return self._waiting_for is not None and not self._waiting_for()

    def has_patch(self, patch: str) -> bool:
        """``workflow.patched(patch)``, but a patch of the run's version is there with no marker."""
        return patch in self._patches or workflow.patched(patch)

    def _settled(self) -> bool:
        """The store has everything, no child is starting, no handler is busy: the workflow may complete."""
        return (
            not self._unflushed() and not self._flushing and not self._outlived() and workflow.all_handlers_finished()
        )

    def _outlived(self) -> bool:
        """Work that outlives its stage is still going on."""
        return any(not task.done() for task in self._outliving)

    @property
    def state(self) -> OrderState:
        if self._not_started is not None:
            raise RuntimeError(f"the order did not start: {self._not_started}")
        if self._state is None:
            raise RuntimeError("the order is still starting: its pipeline is loading")
        return self._state

    def _cannot_start(self, reason: str, problems: list[str] | None = None, type: str = "InvalidOrder") -> Exception:
        """Fails the workflow at once (not its task, which would retry forever), saying why."""
        self._not_started = reason + "".join(f"; {p}" for p in problems or [])
        return ApplicationError(reason, *(problems or []), type=type, non_retryable=True)

    def _new_order(self, input: Any) -> NewOrder:
        """The order a service started, checked as the API would check it."""
        strict = self._limited  # orders started before the limits replay as they ran
        raw = input.get("order") if isinstance(input, dict) else None
        try:
            order = NewOrder.model_validate(raw, context=None if strict else INSIDE)
        except ValidationError as err:
            raise self._cannot_start("invalid order", [f"order.{p}" for p in describe(err)]) from None
        expected = workflow_id(order.order_id)
        if strict and workflow.info().workflow_id != expected:
            raise self._cannot_start(f"the workflow id of order {order.order_id!r} must be {expected!r}")
        return order

    async def _load_pipeline(self, order: NewOrder) -> tuple[Pipeline, int | None]:
        """The pipeline a new order runs, and its version's number (None: not known)."""
        pipeline: Pipeline
        if self.has_patch(PIPELINE_VERSIONS_PATCH):
            found = await workflow.execute_local_activity(
                START_VERSIONED_ORDER, order, result_type=VersionAtEntry,
                summary=f"start in pipeline {order.pipeline_id}", **STORE_WRITE,
            )  # fmt: skip
            self._arrival_saved = True
            self._newest_at = workflow.now()
            assert found.pipeline is not None
            return found.pipeline, found.number
        if self.has_patch(START_ORDER_PATCH):  # a local activity: no task of its own, and the arrival saved
            summary = f"start in pipeline {order.pipeline_id}"
            pipeline = await workflow.execute_local_activity(
                START_ORDER, order, result_type=Pipeline, summary=summary, **STORE_WRITE
            )
            self._arrival_saved = True
        else:
            pipeline = await workflow.execute_activity(
                LOAD_PIPELINE,
                order.pipeline_id,
                result_type=Pipeline,
                start_to_close_timeout=timedelta(seconds=30),
                summary=f"load pipeline {order.pipeline_id}",
            )
        return pipeline, None

    async def _new_state(self, order: NewOrder) -> OrderState:
        try:
            pipeline, version = await self._load_pipeline(order)
        except (ActivityError, ApplicationError) as err:
            # A local activity's failure comes as its own error, an activity's as the cause of one.
            cause = err.cause if isinstance(err, ActivityError) else err
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise self._cannot_start(cause.message, type=cause.type or "UnknownPipeline") from None
            raise
        first = pipeline.stages[0]
        now = workflow.now()
        state = {
            "order": order,
            "pipeline": pipeline,  # checked when it was loaded: not again (INSIDE)
            "pipeline_version": version,
            "responsible_id": order.responsible_id,
            "fields": dict(order.fields),
            "variables": pipeline.variable_defaults(),
            "current": StageVisit(stage=first.id, visit=0, entered_at=now, branches=_branches(pipeline, first.id)),
        }
        self._state = OrderState.model_validate(state, context=INSIDE)
        self._timeline = Timeline(self._state)
        of_version = f" (version {version})" if version is not None else ""
        self.record("order_created", f"order created in {pipeline.title!r}{of_version} at stage {first.id!r}")
        return self._state

    def _has_work(self) -> bool:
        """An event or a move to handle, unless the store is so far behind that the order waits for it."""
        if self._limited and self._timeline is not None and self._timeline.backlogged:
            return False
        return bool(self._queue or self._moves)

    def _ready_to_hand_over(self) -> bool:
        """Continue-as-new: nothing in flight, every event handled, and the timeline in the
        store, so that little is handed over; or, while the store is behind, what waits for
        it goes along (the few events waiting too, if small: so a long outage cannot grow
        this run's history without end), within the state's budget."""
        if not self._quiescent():
            return False
        if not self._limited:
            return True
        store_down = self._store_behind()
        if not (self._queue or self._moves):
            return not self._unflushed() or store_down  # a store that keeps up has it all first
        return store_down and not self._moves and _fits([item.raw for item in self._queue], limits.CARRIED_EVENTS_BYTES)

    def _store_behind(self) -> bool:
        """The store is far behind, and not for want of a chance: a write to it has been
        going on (retrying) for a while. (Its retries wake the workflow up to check.)"""
        backlogged = self._timeline is not None and self._timeline.backlogged
        started = self._store_write_started
        return backlogged and started is not None and workflow.now() - started >= STORE_BEHIND_AFTER

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_BOUND

    def _quiescent(self) -> bool:
        """Safe to hand over: no rule activity in flight, no handler busy. Entries not yet
        in the store go along (the next run stores them), so a failing store cannot hold
        the hand-over back."""
        runner_idle = self._runner is None or not self._runner.busy
        return runner_idle and not self._outlived() and workflow.all_handlers_finished()

    async def _next_piece_of_work(self) -> None:
        if self._moves:  # a rule's Change status goes before the next event
            visit, target, reason = self._moves.popleft()
            if visit != self.state.current.visit:
                self.record("stage_changed", f"not moved to {target!r} ({reason}): the order had left that stage")
            elif self._automatic_move_allowed(target, reason):
                await self._move(target, reason)
            return
        item = self._queue.popleft()
        outcome = await self._handle(item.raw, item.internal)
        if item.ticket is not None:
            self._outcomes[item.ticket] = outcome

    async def _handle(self, raw: Any, internal: bool = False) -> EventOutcome:
        state = self.state
        try:
            # Before the limits every type was taken from anyone: older runs replay so.
            source: Source = ("engine" if internal else "temporal") if self._limited else "engine"
            event = parse_event(raw, source, strict=self._limited)
        except InvalidEvent as err:
            self.record("event_refused", f"event refused: {err}")
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            return self._outcome(event_id, "refused", str(err))
        seen = seen_key(event.event_id) if self._limited else event.event_id
        if seen in state.seen_event_ids or event.event_id in state.seen_event_ids:
            self.record("event_duplicate", f"event {event.event_id} seen before: ignored",
                        event={"event_id": event.event_id, "type": event.type})  # fmt: skip
            return self._outcome(event.event_id, "duplicate", "seen before: ignored")
        state.seen_event_ids = [*state.seen_event_ids[-(limits.SEEN_EVENT_IDS - 1) :], seen]
        title = EVENT_TYPES[event.type].title
        self.record("event_received", f"{title} ({event.event_id})", event=event.model_dump(mode="json"))
        if not internal:
            state.automatic_moves_in_a_row = 0  # a service or customer acted: not a loop
            if isinstance(event.data, ResponsibleChangedData) and self.has_patch("responsible-from-events"):
                state.responsible_id = event.data.responsible_id  # changed in the CRM: the order follows
                self._publish()
        if event.is_customer_activity:
            state.customer_activity += 1
            state.last_customer_activity = title
        if isinstance(event.data, ChatMessageData):
            state.last_channel_id = event.data.channel_id
        conditions = [trigger.condition for stage in state.pipeline.stages for trigger in stage.triggers
                      if trigger.type == event.type and trigger.condition is not None]  # fmt: skip
        now = await self.condition_values(*conditions, patch=TRIGGER_CONSTANTS_PATCH)
        values = {**now, "event": event.values()}
        decision = match_trigger(state.pipeline, state.current.stage, event, values, explain=state.order.test)
        if state.order.test and decision.verdicts:
            self.record("test_log", f"triggers for {title}: {len(decision.verdicts)}",
                        test=bounded({"triggers": decision.verdicts}))  # fmt: skip
        moves = decision.trigger is not None and decision.target not in (None, state.current.stage)
        if decision.refused and not (moves and self.has_patch(QUIET_REFUSALS_PATCH)):
            for refusal in decision.refused:
                self.record("trigger_refused", f"{refusal}: moving back is not allowed")
        if decision.target is None or decision.trigger is None:
            if not decision.refused:
                why = "".join(f"; {reason}" for reason in decision.not_matched)
                self.record("no_trigger", f"no trigger for {title} at this stage{why}")
            return self._outcome(event.event_id, "applied", "no stage change")
        before = state.current.stage
        if decision.target == before:
            self.record("trigger_matched", f"{decision.trigger.label} matched the current stage: no change")
            return self._outcome(event.event_id, "applied", "already at this stage")
        self.record("trigger_matched", f"{decision.trigger.label} on {decision.target!r} matched")
        reason = f"trigger {decision.trigger.label}"
        if internal and not self._automatic_move_allowed(decision.target, reason):
            return self._outcome(event.event_id, "applied", "automatic stage changes are paused")
        if not await self._move(decision.target, reason, trigger=event.values()):
            return self._outcome(event.event_id, "applied", "already at this stage")
        return self._outcome(event.event_id, "applied", f"moved from {before!r}", moved_from=before)

    def _outcome(self, event_id: Any, status: Any, message: str, moved_from: str | None = None) -> EventOutcome:
        event_id = event_id if isinstance(event_id, str) else None
        return EventOutcome(
            event_id=event_id, status=status, stage=self.state.current.stage, moved_from=moved_from, message=message
        )

    def _automatic_move_allowed(self, target: str, reason: str) -> bool:
        """The loop guard, for moves the engine causes itself (not for services' events)."""
        state = self.state
        now = workflow.now()
        state.automatic_moves = [t for t in state.automatic_moves if now - t < AUTOMATIC_MOVES_WINDOW]
        if len(state.automatic_moves) >= AUTOMATIC_MOVES_LIMIT:
            why = f"{AUTOMATIC_MOVES_LIMIT} automatic stage changes in the last {AUTOMATIC_MOVES_WINDOW}"
        elif state.automatic_moves_in_a_row >= AUTOMATIC_MOVES_IN_A_ROW:
            why = f"{AUTOMATIC_MOVES_IN_A_ROW} automatic stage changes in a row, no service or customer in between"
        else:
            state.automatic_moves.append(now)
            state.automatic_moves_in_a_row += 1
            return True
        self.record(
            "loop_stopped",
            f"not moved to {target!r} ({reason}): {why}, a trigger loop? Events from services still move the order.",
        )
        return False

    async def _move(self, target: str, reason: str, trigger: dict[str, Any] | None = None) -> bool:
        """Moves the order to ``target`` (or where the newest version has it); False if that
        is the stage it is in."""
        state = self.state
        before = state.current
        if target == before.stage:
            self.record("stage_changed", f"already at {target!r}: no change ({reason})")
            return False
        found = await self._newest_version(target) if self._asks_version() else None
        entering = found.stage if found is not None and found.outcome == "newest" and found.stage else target
        if entering == before.stage:  # a stage the newest version moved onto the one it is in
            self.record("stage_changed", f"already at {entering!r}, which is {target!r} in version "
                        f"{found.number if found else '?'}: no change ({reason})")  # fmt: skip
            return False
        if self._runner is not None:
            await self._runner.stop()
        if found is not None:
            self._take_version(found, target)
        now = workflow.now()
        state.current = StageVisit(
            stage=entering,
            visit=before.visit + 1,
            entered_at=now,
            trigger=trigger or {},
            branches=_branches(state.pipeline, entering),
        )
        self.record("stage_changed", f"{before.stage} → {entering} ({reason})",
                    **{"from": before.stage, "to": entering})  # fmt: skip
        self._publish()
        self._runner = self._stage_runner()
        self._runner.start()
        if state.pipeline.stage(entering).final == "failure" and (trigger or {}).get("type") != "order_cancelled":
            # A failure stage cancels the order, which is itself an event triggers may react to.
            self._raise_event(f"{state.order.order_id}/{state.current.visit}/cancelled", "order_cancelled", {})
        return True

    def _asks_version(self) -> bool:
        """Whether the order asks which version to enter its next stage under: when it has
        not asked in this run, when a version was announced, or when what it learnt is old
        (how old, by the patches of the run: a marker only where they differ)."""
        if not self.has_patch(PIPELINE_VERSIONS_PATCH):
            return False
        if self._newest_at is None:
            return True
        # A run begun before announcements replays without: its old code set the signal aside.
        if self._announced is not None and self.has_patch(ANNOUNCED_VERSIONS_PATCH):
            return True
        known_for = workflow.now() - self._newest_at
        if known_for >= VERSION_ASKED_AFTER:
            return True
        if known_for < VERSION_KNOWN_FOR_BEFORE:
            return False
        if known_for < VERSION_KNOWN_FOR:
            return not self.has_patch(LONGER_VERSION_WINDOW_PATCH)
        return not self.has_patch(ANNOUNCED_VERSIONS_PATCH)

    async def _newest_version(self, target: str) -> VersionAtEntry | None:
        """As the order is about to enter ``target``: which version it enters it under (the
        newest, unless that has no place for ``target``). None, and the order stays on its
        version, if the store cannot say: it does not wait for a store that is down. The
        stage's rules are held meanwhile, so that a move still ends them at once."""
        state = self.state
        entry = StageEntry(
            pipeline_id=state.pipeline.id,
            number=state.pipeline_version,
            content_hash=content_hash(state.pipeline) if state.pipeline_version is None else None,
            stage=target,
            announced=self._announced,
        )
        self._leaving = True  # no rule of the stage starts meanwhile (``starts_paused``)
        try:
            found: VersionAtEntry = await workflow.execute_local_activity(
                VERSION_AT_ENTRY, entry, result_type=VersionAtEntry,
                summary=f"version of {state.pipeline.id} for {target}", **VERSION_CHECK,
            )  # fmt: skip
            if found.outcome != "no_place":  # it runs the newest, or is about to
                self._newest_at = workflow.now()
            if self._announced == entry.announced:  # the store was asked after it (not one announced meanwhile)
                self._announced = None
            return found
        except FailureError as err:  # a local activity's failure: an ActivityError, or (replayed) its cause
            cause = err.cause if isinstance(err, ActivityError) else err
            reason = cause.message if isinstance(cause, FailureError) else str(cause or err)
            self.record("pipeline_version", f"stays on its version for {target!r}: the newest could not be "
                        f"read ({reason})")  # fmt: skip
            return None
        finally:
            self._leaving = False

    def _take_version(self, found: VersionAtEntry, target: str) -> None:
        state = self.state
        was = state.pipeline_version
        if found.outcome == "same_content":
            state.pipeline_version = found.number
        elif found.outcome == "no_place":
            on = f"version {was}" if was is not None else "its version"
            self.record("pipeline_version", f"stays on {on} for {target!r}: version {found.number} "
                        "has no such stage and says of no stage instead")  # fmt: skip
        elif found.outcome == "newest" and found.pipeline is not None and found.stage is not None:
            state.pipeline, state.pipeline_version = found.pipeline, found.number
            state.variables = {**found.pipeline.variable_defaults(), **state.variables}
            moved = f"; its stage {target!r} is {found.stage!r} there" if found.stage != target else ""
            earlier = was if was is not None else "one from before versions were kept"
            self.record("pipeline_version", f"takes version {found.number} of its pipeline (was {earlier}){moved}",
                        **{"from": was, "to": found.number})  # fmt: skip

    def _raise_event(self, event_id: str, type: str, data: dict[str, Any]) -> None:
        raw = {"event_id": event_id, "type": type, "data": data, "occurred_at": workflow.now().isoformat()}
        self._queue.append(_Queued(raw, internal=True))

    def _stage_runner(self) -> StageRunner:
        state = self.state
        return StageRunner(self, state.pipeline.stage(state.current.stage), state.current)

    # --- what the stage runner calls (``OrderForRules``) ----------------------------------

    @property
    def order_id(self) -> str:
        return self.state.order.order_id

    @property
    def is_test(self) -> bool:
        return self.state.order.test

    @property
    def starts_paused(self) -> bool:
        """No rule starts: the order hands over to a new run, or is about to leave its stage."""
        return self._draining or self._leaving

    def values(self) -> dict[str, Any]:
        return self.state.values()

    async def condition_values(self, *conditions: Condition, patch: str = CONDITION_CONSTANTS_PATCH) -> dict[str, Any]:
        """The order's values, with the constants these conditions read as an admin set them now."""
        values = self.values()
        wanted = sorted({name for c in conditions for root, name in reads(None, c) if root == "constants"})
        if not wanted or not self.has_patch(patch):  # a marker only where it matters
            return values
        wanted_now = ConstantsWanted(pipeline_id=self.state.pipeline.id, names=wanted)
        try:
            admins = await workflow.execute_local_activity(
                CONSTANTS_NOW, wanted_now, result_type=dict, summary="constants now", **VERSION_CHECK
            )
        except FailureError:  # the store is down: the file's values, as before admins set any
            self.record("constants_unavailable", "constants as an admin set them could not be read: the file's "
                        "values hold")  # fmt: skip
            return values
        return {**values, "constants": {**values["constants"], **admins}}

    def customer_activity(self) -> tuple[int, str | None]:
        return self.state.customer_activity, self.state.last_customer_activity

    def outlive_stage(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        """Keeps ``task`` going whatever the stage does; the order waits for it before it
        hands over to a new run or completes."""
        self._outliving = [*(t for t in self._outliving if not t.done()), task]
        return task

    def count_unconfirmed_message(self) -> None:
        self.state.unconfirmed_messages += 1

    def record(self, kind: TimelineKind, message: str, **data: Any) -> None:
        assert self._timeline is not None, "nothing is recorded before the order has its state"
        self._timeline.add(workflow.now(), kind, message, data)

    def rule_result_problem(self, result: RuleResult) -> str | None:
        """Why the order cannot take a rule's result (it would outgrow the order's limits); None if it can."""
        return result_problem(self.state, result) if self._limited else None

    def take_rule_result(
        self,
        visit: StageVisit,
        run_key: str,
        label: str,
        rule_type: str,
        result: RuleResult,
        test: dict[str, Any] | None = None,
    ) -> None:
        state = self.state
        variables = typed(state.pipeline.variables, result.variables)[0]  # each read as its declared type
        if test is not None:  # a test order: what the rule changed, for its test log
            changes = changes_of(state.variables, variables, state.fields, state.responsible_id, result.order_changes)
            test = {**test, "changed": changes}
        state.variables.update(variables)
        state.unconfirmed_messages += result.unconfirmed
        for name, value in result.order_changes.items():
            if name == "responsible_id":
                state.responsible_id = value
            else:
                state.fields[name] = value
        outcome = "finished" if result.effective else "finished without effect"
        self.record("rule_finished", f"{label}: {outcome}, {result.summary}", rule=rule_type,
                    **({"test": bounded(test)} if test is not None else {}))  # fmt: skip
        self._publish()
        if isinstance(result.effect, EndOrder):
            return  # its events are not raised: the order takes no more
        for number, raised in enumerate(result.events):
            self._raise_event(f"{run_key}/{number}", raised.type, raised.data)

    def move_after_rule(self, visit: StageVisit, stage: str, label: str) -> None:
        # A move to the stage the order is in ends nothing (patched: older orders did end it).
        if stage == visit.stage and self.has_patch("same-stage-move-keeps-rules"):
            return
        visit.closed = True  # the move ends this stage's rules at once, in every branch
        self._moves.append((visit.visit, stage, label))

    def end_after_rule(self, visit: StageVisit) -> None:
        visit.closed = self.state.ended = True

    # --- ops: search attributes, details, the store ---------------------------------------

    def _publish(self) -> None:
        """The stage or responsible may have changed: ops see it (at once in runs begun before versions)."""
        self._stale = True
        if not self._when_idle:
            self._publish_now()

    def _publish_now(self) -> None:
        if not self._stale:
            return
        self._stale = False
        state = self.state
        customer = state.order.customer
        stage = state.pipeline.stage(state.current.stage)
        values = {
            search.ORDER_STAGE: state.current.stage,
            search.ORDER_OUTCOME: stage.final or search.OPEN,
            search.ORDER_PIPELINE: state.pipeline.id,
            search.ORDER_RESPONSIBLE: state.responsible_id,
            search.ORDER_CUSTOMER: customer.id if customer else None,
        }
        # Only the stage (with its outcome) and the responsible change within a run.
        changed = {key: value for key, value in values.items() if self._upserted.get(key, ()) != value}
        if not changed:
            return
        workflow.upsert_search_attributes([search.keyword(key, value) for key, value in changed.items()])
        self._upserted.update(changed)
        workflow.set_current_details(
            f"**Stage:** {stage.title} (`{stage.id}`)  \n"
            f"**Pipeline:** {state.pipeline.title}  \n"
            f"**Responsible:** {state.responsible_id or '-'}  \n"
            f"**Entered stage:** {state.current.entered_at.isoformat()}"
        )

    def _unflushed(self) -> bool:
        return self._timeline is not None and self._timeline.has_unstored

    def _store_write(self, entries: list[TimelineEntry], history_length: int | None = None) -> SaveOrderInput:
        state = self.state
        return SaveOrderInput(
            order=state.order,
            stage=state.current.stage,
            responsible_id=state.responsible_id,
            fields=state.fields,
            variables=state.variables,
            entries=entries,
            save_customer=state.flushed_seq == 0 and not self._arrival_saved,
            run_number=state.runs,
            run_id=workflow.info().run_id,
            history_length=workflow.info().get_current_history_length() if history_length is None else history_length,
        )

    def hold_store_write(self, carried: bool) -> tuple[bool, str | None]:
        """A rule activity starts now: whether the order holds its next store write until the
        activity ends (``release_store_write``), or until more comes to write, so that a quick
        rule's order makes one store write, with its result, rather than two; and, if the
        activity is to carry it (``carried``), the write in JSON. Nothing is held with nothing
        to write, a write held already, in a run before it, or a write too big to carry
        (``limits.CARRIED_WRITE_BYTES``). The write counts as made one history event before
        this task (``WrittenBy``), so that it never replaces a write this task makes itself
        with what came after."""
        timeline = self._timeline
        if self._held_up_to is not None or timeline is None or not timeline.has_unstored:
            return False, None
        if not self.has_patch(CARRIED_WRITE_PATCH):
            return False, None
        text = None
        if carried:
            history_length = workflow.info().get_current_history_length() - 1
            text = self._store_write(timeline.unstored(), history_length).model_dump_json()
            if len(text.encode()) > limits.CARRIED_WRITE_BYTES:
                return False, None
        self._held_up_to = timeline.last_seq
        return True, text

    def release_store_write(self) -> None:
        """The activity that held the store write has ended: the order writes for itself."""
        self._held_up_to = None

    def _write_held(self) -> bool:
        """A rule activity holds the store write of everything not stored yet."""
        return (
            self._held_up_to is not None and self._timeline is not None and self._timeline.last_seq == self._held_up_to
        )

    async def _flush_forever(self) -> None:
        """Keeps the store's copy of the order and its timeline in step, one batch at a time."""
        while True:
            await workflow.wait_condition(
                lambda: self._unflushed() and (self._idle() or not self._when_idle) and not self._write_held()
            )
            state, timeline = self.state, self._timeline
            assert timeline is not None
            entries = timeline.unstored()
            self._flushing = True
            self._store_write_started = workflow.now()
            try:
                newest = await workflow.execute_local_activity(
                    SAVE_ORDER,
                    self._store_write(entries),
                    summary=f"store {len(entries)} timeline entries",
                    **STORE_WRITE,
                )
            except ActivityError as err:
                if isinstance(err.cause, CancelledError):  # the hand-over: the next run stores them
                    return
                raise
            finally:
                self._flushing = False
                self._store_write_started = None
            timeline.stored(entries[-1].seq)
            if isinstance(newest, int) and newest == state.pipeline_version:  # None in runs before it
                self._newest_at = workflow.now()
