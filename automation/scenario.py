"""A test scenario: a test order, the events an admin would send it at given times, and what
is expected after each step (stage, variables, fields, rules, messages, timeline). ``orders
test PIPELINE SCENARIO`` runs it on simulated time (``cli/test_mode.py``); here are the
file's model and the checks of what was expected against what happened. Pure.

```yaml
title: a paid order is thanked
order: {fields: {total: 120, currency: EUR}, customer: {id: c1, emails: [{type: home, value: a@b.example}]}}
steps:
  - expect: {stage: new, messages: 1}
  - at: 2d                                   # simulated time since the order was created
    event: {type: payment, data: {amount: 120}}
    expect: {stage: paid, variables: {contacts: 0}, rules: {Thank the customer: done}}
  - at: 5d
    skip_pause: true                         # "skip this pause": the stage's delays and Waits end now
    expect: {timeline: [gave up waiting]}
```
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from automation import limits
from automation.delays import Duration, duration_text
from automation.errors import describe
from automation.events import InvalidEvent, parse_event
from automation.files import FileError, parse_yaml, read_text
from automation.models import Slug, StrictFromOutside, Title, Within
from automation.order import CustomerInfo, ShipmentInfo
from automation.state import OrderView, TimelineEntry

RuleOutcome = Literal["done", "skipped", "failed", "stopped", "running", "waiting", "pending"]
STEPS = 200
"""Steps of one scenario, at most."""


class ExpectedMessage(StrictFromOutside):
    """A message the test order recorded (not sent): each given part must match."""

    channel: Literal["email", "sms", "call", "chat"] | None = None
    to: Annotated[str, Within(limits.ID_CHARS)] | None = Field(default=None, description="the recipient contains it")
    contains: Annotated[str, Within(limits.TITLE_CHARS)] | None = Field(
        default=None, description="the subject or the text contains it (any case)"
    )


class Expect(StrictFromOutside):
    """What must be true after a step; what it does not name is not checked."""

    stage: Slug | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="each of these has this value")
    fields: dict[str, Any] = Field(default_factory=dict, description="order fields: each has this value")
    rules: dict[Annotated[str, Within(limits.TITLE_CHARS)], RuleOutcome] = Field(
        default_factory=dict, description="rules of the current stage, by title: each has this status"
    )
    messages: int | list[ExpectedMessage] | None = Field(
        default=None, description="the messages recorded so far: how many, or each in order"
    )
    timeline: list[Annotated[str, Within(limits.TITLE_CHARS)]] = Field(
        default_factory=list, description="texts some timeline entry contains (any case)"
    )


class Step(StrictFromOutside):
    at: Duration = Field(default=timedelta(0), description="simulated time since the order was created")
    event: dict[str, Any] | None = Field(default=None, description="an event as services send it: type, data")
    skip_pause: bool = Field(default=False, description='"skip this pause": delays and Waits of the stage end now')
    expect: Expect | None = None

    @field_validator("event")
    @classmethod
    def _valid_event(cls, event: dict[str, Any] | None) -> dict[str, Any] | None:
        if event is None:
            return None
        try:
            parse_event({"event_id": "scenario", "occurred_at": "2026-01-01T00:00:00+00:00", **event}, "service")
        except InvalidEvent as err:
            raise ValueError("; ".join(err.problems)) from None
        return event


class Scenario(StrictFromOutside):
    title: Title | None = None
    order: ScenarioOrder = Field(default_factory=lambda: ScenarioOrder())
    steps: Annotated[list[Step], Within(STEPS)] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_time_order(self) -> Scenario:
        for number, (before, step) in enumerate(zip(self.steps, self.steps[1:], strict=False), start=2):
            if step.at < before.at:
                raise ValueError(
                    f"step {number} is at {duration_text(step.at)}, before the step above it "
                    f"({duration_text(before.at)})"
                )
        return self


class ScenarioOrder(StrictFromOutside):
    """The test order, as a service would create it (its id and pipeline are the runner's)."""

    customer: CustomerInfo | None = None
    responsible_id: Annotated[str, Within(limits.ID_CHARS)] | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    shipments: Annotated[list[ShipmentInfo], Within(limits.SHIPMENTS)] = Field(default_factory=list)


Scenario.model_rebuild()


class RecordedMessage(BaseModel):
    """A message the test order recorded, as the checks see it."""

    channel: str
    recipient: str
    subject: str
    body: str


class ScenarioError(FileError):
    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, "invalid scenario", problems)


def load_scenario(path: str) -> Scenario:
    try:
        data = parse_yaml(read_text(path, "invalid scenario"), path, "invalid scenario")
        return Scenario.model_validate(data)
    except FileError as err:
        raise ScenarioError(path, err.problems) from None
    except ValidationError as err:
        raise ScenarioError(path, describe(err)) from None


def unmet(expect: Expect, view: OrderView, messages: list[RecordedMessage], timeline: list[TimelineEntry]) -> list[str]:
    """What of ``expect`` does not hold for the order as it is (one line each, with its place)."""
    found: list[str] = []
    if expect.stage is not None and view.stage != expect.stage:
        found.append(f"expect.stage: wanted {expect.stage!r}, the order is at {view.stage!r}")
    for kind, wanted, actual in (("variables", expect.variables, view.variables),
                                 ("fields", expect.fields, view.fields)):  # fmt: skip
        for name, value in wanted.items():
            if not _same(value, actual.get(name)):
                found.append(f"expect.{kind}.{name}: wanted {_json(value)}, it is {_json(actual.get(name))}")
    statuses = {rule.title: rule.status for rule in view.rules}
    for title, status in expect.rules.items():
        if title not in statuses:
            found.append(f"expect.rules.{title}: no rule of that title at stage {view.stage!r}")
        elif statuses[title] != status:
            found.append(f"expect.rules.{title}: wanted {status}, it is {statuses[title]}")
    found += _unmet_messages(expect.messages, messages)
    texts = [entry.message.casefold() for entry in timeline]
    for text in expect.timeline:
        if not any(text.casefold() in entry for entry in texts):
            found.append(f"expect.timeline: no entry contains {text!r}")
    return found


def _unmet_messages(wanted: int | list[ExpectedMessage] | None, messages: list[RecordedMessage]) -> list[str]:
    if wanted is None:
        return []
    count = wanted if isinstance(wanted, int) else len(wanted)
    if len(messages) != count:
        return [f"expect.messages: wanted {count}, {len(messages)} recorded"]
    if isinstance(wanted, int):
        return []
    found = []
    for number, (expected, message) in enumerate(zip(wanted, messages, strict=True)):
        for part, ok in (("channel", expected.channel in (None, message.channel)),
                         ("to", expected.to is None or expected.to.casefold() in message.recipient.casefold()),
                         ("contains", expected.contains is None or expected.contains.casefold()
                          in (message.subject + "\n" + message.body).casefold())):  # fmt: skip
            if not ok:
                what = message.subject or message.body[:60]
                found.append(f"expect.messages[{number}].{part}: {getattr(expected, part)!r} does not match "
                             f"the {message.channel} to {message.recipient} ({what!r})")  # fmt: skip
    return found


def _same(wanted: Any, actual: Any) -> bool:
    """Equal as JSON values: true is not 1, a date is its ISO text; 12 and 12.0 are one number."""
    numbers = (int, float)
    if isinstance(wanted, numbers) and isinstance(actual, numbers) and not isinstance(wanted, bool | type(None)):
        return not isinstance(actual, bool) and wanted == actual
    return json.dumps(wanted, default=str, sort_keys=True) == json.dumps(actual, default=str, sort_keys=True)


def _json(value: Any) -> str:
    return json.dumps(value, default=str)
