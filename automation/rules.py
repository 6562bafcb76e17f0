"""What a rule kind is (``RuleKind``: its name, typed parameters, activity options and
effect on the order's workflow), and what the workflow and a rule's activity exchange.

The kinds themselves are listed in ``automation/rule_kinds/``; their implementations (the
activities) live in ``activities/rules/``, one module per kind, looked up by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, model_validator
from temporalio.common import RetryPolicy

from automation import limits
from automation.effects import Effect, HoldForCustomer, ResultEffect
from automation.models import StrictFromOutside, json_size
from automation.variables import typed

if TYPE_CHECKING:
    from automation.state import OrderState


RESPONSIBLE = "responsible"
"""Where a rule names an employee, this word means the order's responsible person."""


class RuleParams(StrictFromOutside):
    """Typed parameters of one rule type; strict in a pipeline file, so a typo is refused."""

    writes_declared_only: ClassVar[bool] = False
    """The variables it sets must be declared in the pipeline (their type says what it writes)."""

    def stage_references(self) -> list[str]:
        """Stage ids these parameters name, checked against the pipeline at load."""
        return []

    def variables_written(self) -> list[str]:
        """The variables the rule sets for the rules after it: names, or a prefix ending in
        ``*`` (for the linter)."""
        return []

    def effect_before_action(self) -> HoldForCustomer | None:
        """What the workflow does before the rule's activity runs (Wait: holds the chain)."""
        return None


P = TypeVar("P", bound=RuleParams)

DEFAULT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=["RuleRefused"],
)


@dataclass(frozen=True)
class RuleKind(Generic[P]):
    """A rule type as the core knows it: enough to validate a pipeline, schedule the rule's
    activity (named ``name``) and apply what it does to the order's workflow."""

    name: str
    title: str
    description: str
    params: type[P]
    start_to_close: timedelta = timedelta(seconds=30)
    heartbeat: timedelta | None = timedelta(seconds=10)
    """The worker heartbeats while the rule runs, so that a cancelled rule (its order left
    the stage) stops, and a dead worker's rule is retried, within this time."""
    retry: RetryPolicy = field(default_factory=lambda: DEFAULT_RETRY)
    store_only: bool = False
    """True where its activity only reads and writes the store (no provider, no message): it
    ends about as soon as a store write would, so the order's own store write waits for its
    result rather than travel with it (``RuleInput.store_write``)."""
    sends_messages: bool = False
    """True where its message goes through the outbox: stopped while it runs, the order
    settles its row (the ``settle_stopped_message`` activity)."""
    effect: type[Effect] | None = None
    """What it may do to the order's workflow (``automation/effects.py``); a result with
    another effect fails the rule."""
    raises: tuple[str, ...] = ()
    """The event types its activity may raise (the linter follows them to triggers)."""
    group: Literal["employees", "customer_communication"] = "employees"
    """Its group in the catalog, as the source documents group rules: rules for employees,
    rules for customer communication (those that reach the customer)."""


class RuleInput(BaseModel):
    """The single input of every rule activity."""

    order_id: str
    run_key: str = Field(description="order/stage-visit/rule: the idempotency key of this run")
    stage: str
    rule_index: int
    rule_type: str
    params: dict[str, Any] = Field(description="validated again by the rule type's model")
    values: dict[str, Any] = Field(
        description="order, variables, constants, trigger (and wait) values at the time it runs"
    )
    test: bool = Field(default=False, description="a test order's rule: messages are recorded, not sent")
    store_write: str | None = Field(
        default=None,
        description="the order's store write (a SaveOrderInput in JSON) that the activity makes if the rule runs long",
    )


class RaisedEvent(BaseModel):
    """An event the engine itself causes (an e-mail sent, a responsible changed...); the
    workflow gives it an id and a time and handles it like any other."""

    type: str
    data: dict[str, Any] = Field(default_factory=dict)


class RuleResult(BaseModel):
    """What a rule did, and what it hands back to the order."""

    summary: str = Field(description="one line for the timeline")
    effective: bool = Field(default=True, description="False: ran, but had nothing to act on")
    variables: dict[str, Any] = Field(default_factory=dict, description="for the rules after it")
    order_changes: dict[str, Any] = Field(default_factory=dict, description="order fields it set")
    events: list[RaisedEvent] = Field(default_factory=list, description="events it caused")
    effect: ResultEffect | None = Field(default=None, description="what it does to the order's workflow")
    unconfirmed: int = Field(default=0, description="messages it may or may not have sent (for an operator)")

    @model_validator(mode="before")
    @classmethod
    def _effect_of_older_results(cls, data: Any) -> Any:
        """Results recorded before effects were one field (in histories and in the store's
        rule runs) said them in three: move_to, end_order and child_workflow."""
        if not isinstance(data, dict) or not {"move_to", "end_order", "child_workflow"} & set(data):
            return data
        data = dict(data)
        move_to, end, child = data.pop("move_to", None), data.pop("end_order", False), data.pop("child_workflow", None)
        if end:
            data["effect"] = {"kind": "end_order"}
        elif child:
            data["effect"] = {"kind": "start_child_workflow", **child}
        elif move_to is not None:
            data["effect"] = {"kind": "move_order", "stage": move_to}
        return data

    def problems(self) -> list[str]:
        """What makes this result too big for an order to take (none when it fits)."""
        found = []
        for what, value, most in (
            ("variables", self.variables, limits.VARIABLES_BYTES),
            ("order changes", self.order_changes, limits.FIELDS_BYTES),
        ):
            if (size := json_size(value)) > most:
                found.append(f"its {what} are {size:,} bytes of JSON; at most {most:,}")
        if len(self.events) > limits.RULE_EVENTS:
            found.append(f"it raises {len(self.events)} events; at most {limits.RULE_EVENTS}")
        biggest = max((json_size(event.data) for event in self.events), default=0)
        if biggest > limits.EVENT_BYTES:
            found.append(f"it raises an event of {biggest:,} bytes of JSON; at most {limits.EVENT_BYTES:,}")
        responsible = self.order_changes.get("responsible_id")
        if responsible is not None and (not isinstance(responsible, str) or len(responsible) > limits.ID_CHARS):
            found.append(f"the responsible id it sets is not an id of at most {limits.ID_CHARS} characters")
        return found


def result_problem(state: OrderState, result: RuleResult) -> str | None:
    """Why the order cannot take ``result``: too big by itself, a variable the pipeline
    declares not of its type, or the order's variables or fields would outgrow their limits
    with it. None when it fits."""
    problems = result.problems() + typed(state.pipeline.variables, result.variables)[1]
    for what, current, changes, most in (
        ("variables", state.variables, result.variables, limits.VARIABLES_BYTES),
        ("fields", state.fields, result.order_changes, limits.FIELDS_BYTES),
    ):
        if changes and (size := json_size({**current, **changes})) > most:
            problems.append(f"the order's {what} would be {size:,} bytes of JSON; at most {most:,}")
    return "; ".join(problems) or None
