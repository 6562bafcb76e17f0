"""The order workflow's state: everything it needs to go on, carried whole across
continue-as-new, so nothing is lost or run twice at the hand-over."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from automation.order import NewOrder
from automation.pipeline import Pipeline

WORKFLOW_VERSION = 6
"""The behaviour of the order workflow a run started by this code follows (every patch of
``workflows/`` applies to it, with no marker in its history). 0: a run begun before versions,
which the patches themselves steer as it ran."""

TimelineKind = Literal[
    "order_created", "event_received", "event_refused", "event_duplicate",
    "trigger_matched", "trigger_refused", "no_trigger", "stage_changed",
    "rule_started", "rule_skipped", "rule_waiting", "rule_finished", "rule_failed",
    "continued_as_new", "loop_stopped", "order_deleted", "message_resend",
    "message_unconfirmed", "pipeline_version", "test_log", "constants_unavailable",
]  # fmt: skip


class TimelineEntry(BaseModel):
    seq: int
    at: AwareDatetime
    kind: TimelineKind
    stage: str
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


class Branch(BaseModel):
    """One chain of rules of the current stage, and how far it has got."""

    rules: list[int] = Field(description="rule indexes in the stage, in order")
    position: int = Field(default=0, description="index into rules of the rule not yet done")
    ready_at: AwareDatetime = Field(description="when the rule before finished, or stage entry")
    due_at: AwareDatetime | None = Field(default=None, description="end of the current delay")
    wait_deadline: AwareDatetime | None = None
    wait_mark: int | None = Field(default=None, description="customer activity count at Wait start")
    wait_started: bool = False
    wait_outcome: dict[str, str] | None = Field(default=None, description="how the Wait ended, once it has")
    last_wait: dict[str, str] | None = Field(
        default=None, description="how the last Wait of this chain ended: wait.* for the rules after it"
    )
    ready: bool = Field(default=False, description="delay, condition and Wait passed: only the action is left")

    @property
    def done(self) -> bool:
        return self.position >= len(self.rules)

    def advance(self, now: datetime) -> None:
        self.position += 1
        self.ready_at, self.due_at = now, None
        self.wait_deadline, self.wait_mark, self.wait_started = None, None, False
        self.last_wait = self.wait_outcome or self.last_wait
        self.wait_outcome, self.ready = None, False


class PendingEvent(BaseModel):
    raw: Any
    internal: bool = Field(default=False, description="raised by the engine's own rules")


RuleOutcome = Literal["done", "skipped", "failed", "stopped"]
"""How a rule of a stage visit ended: ran, skipped (delay field empty, condition false, or
the rule before it failed), failed after its retries, or stopped by leaving the stage."""


class StageVisit(BaseModel):
    stage: str
    visit: int = Field(description="how many stage entries before this one; part of run keys")
    entered_at: AwareDatetime
    trigger: dict[str, Any] = Field(default_factory=dict, description="values of the moving event")
    branches: list[Branch]
    closed: bool = Field(default=False, description="a rule moved the order: no more rules here")
    outcomes: dict[int, RuleOutcome] = Field(default_factory=dict, description="by rule index, once it is over")


class OrderState(BaseModel):
    order: NewOrder
    pipeline: Pipeline
    pipeline_version: int | None = Field(
        default=None, description="the version of the pipeline the current stage was entered with; None: unknown"
    )
    responsible_id: str | None
    fields: dict[str, Any]
    variables: dict[str, Any] = Field(default_factory=dict)
    current: StageVisit
    timeline: list[TimelineEntry] = Field(default_factory=list, description="the latest entries")
    next_seq: int = 1
    flushed_seq: int = Field(default=0, description="timeline entries up to here are in the store")
    seen_event_ids: list[str] = Field(default_factory=list, description="a rolling window")
    pending_events: list[PendingEvent] = Field(default_factory=list, description="not yet handled")
    customer_activity: int = Field(default=0, description="customer events seen; Wait rules watch it")
    last_customer_activity: str | None = None
    last_channel_id: str | None = Field(default=None, description="open channel the customer last wrote in")
    ended: bool = Field(default=False, description="the order was deleted: no more events are handled")
    runs: int = Field(default=1, description="workflow runs so far (continue-as-new count + 1)")
    automatic_moves: list[AwareDatetime] = Field(
        default_factory=list, description="recent stage changes the engine made itself (loop guard)"
    )
    automatic_moves_in_a_row: int = Field(default=0, description="since the last event from outside (loop guard)")
    unconfirmed_messages: int = Field(default=0, description="sent messages whose fate is unknown (for an operator)")

    def values(self) -> dict[str, Any]:
        """What conditions and templates read."""
        order = {
            **self.fields,
            "id": self.order.order_id,
            "pipeline": self.pipeline.id,
            "stage": self.current.stage,
            "customer_id": self.order.customer.id if self.order.customer else None,
            "responsible_id": self.responsible_id,
            "last_channel_id": self.last_channel_id,
        }
        return {
            "order": order,
            "variables": dict(self.variables),
            "constants": self.pipeline.constant_values(),
            "trigger": dict(self.current.trigger),
        }


class OrderInput(BaseModel):
    """The workflow's input: a new order, or (on continue-as-new) its whole state."""

    order: NewOrder
    state: OrderState | None = None
    workflow_version: int = Field(
        default=WORKFLOW_VERSION,
        description="the workflow behaviour the run follows; a run without it decides by a patch marker",
    )


class EventOutcome(BaseModel):
    """What an event did to the order; the answer to the ``apply_event`` update."""

    event_id: str | None
    status: Literal["applied", "duplicate", "refused"]
    stage: str = Field(description="the order's stage after the event")
    moved_from: str | None = None
    message: str


class RuleStatus(BaseModel):
    index: int
    type: str
    title: str
    status: Literal["done", "skipped", "failed", "stopped", "running", "waiting", "pending"]


class OrderView(BaseModel):
    """The answer to the ``state`` query."""

    order_id: str
    test: bool = Field(default=False, description="a test order (orders test, or created with test: true)")
    pipeline_id: str
    pipeline_version: int | None = Field(default=None, description="the version its stage was entered with")
    stage: str
    stage_title: str
    responsible_id: str | None
    customer_id: str | None
    fields: dict[str, Any]
    variables: dict[str, Any]
    variable_types: dict[str, str] = Field(
        default_factory=dict, description="each variable's type: declared by the pipeline, or by its value"
    )
    rules: list[RuleStatus]
    pending_events: int
    runs: int = Field(description="workflow runs so far: continue-as-new hands over to a new run")
    unconfirmed_messages: int = Field(default=0, description="messages that may not have gone out: resend or not")
    idle: bool = Field(default=True, description="it waits for an event or a timer: nothing it started is under way")
    timeline: list[TimelineEntry]


class ResendRequest(BaseModel):
    """An operator's decision to resend a message whose fate is unknown (``resend_message``)."""

    model_config = ConfigDict(extra="forbid")
    run_key: str = Field(min_length=1, max_length=400, description="the message's rule run (starts with the order id)")
    by: str = Field(min_length=1, max_length=100, description="who decided it")


class ResendOutcome(BaseModel):
    run_key: str
    status: str = Field(description="sent, or unconfirmed again")
    message: str
