"""Every limit of ``automation/limits.py`` on what services and admins send: input at the
limit is accepted, one over it is refused with its place and the limit. Pure: no server.

(The limits the workflow keeps are in ``test_bounded_order.py``, the HTTP API's in
``api/test_limits_api.py``, pipeline and directory files' in ``test_file_limits.py``,
templates' in ``test_template_sandbox.py``.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from automation import limits
from automation.errors import describe
from automation.events import Event, InvalidEvent, parse_event
from automation.models import INSIDE, json_size
from automation.order import NewOrder
from automation.pipeline import Pipeline, PipelineError, parse_pipeline

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Case:
    guards: str
    """The limit, as the test id shows it."""
    at_limit: Callable[[int], Any]
    """Builds the input with ``n`` of what is limited."""
    limit: int
    problem: str
    """The problem reported for ``limit + 1``."""


def _problems(model: type[BaseModel], raw: Any) -> list[str]:
    try:
        model.model_validate(raw)
    except ValidationError as err:
        return describe(err)
    return []


def _order(**changes: Any) -> dict[str, Any]:
    return {"order_id": "o-1", "pipeline_id": "shop", **changes}


def _customer(**changes: Any) -> dict[str, Any]:
    return _order(customer={"id": "c-1", **changes})


def _padded_to(size: int, build: Callable[[str], dict[str, Any]], model: type[BaseModel]) -> dict[str, Any]:
    """``build(pad)`` with a pad that makes its JSON (as the model checks it) ``size`` bytes."""
    base = json_size(model.model_validate(build(""), context=INSIDE).model_dump())
    return build("a" * (size - base))


def _event(type: str = "email_received", **data: Any) -> dict[str, Any]:
    return {"event_id": "e-1", "type": type, "data": data, "occurred_at": "2026-12-02T10:00:00Z"}


ORDER_CASES = [
    Case("order_id: 100 characters", lambda n: _order(order_id="o" * n), 100, "order_id: at most 100 characters"),
    Case("customer.id: 100 characters", lambda n: _customer(id="c" * n), 100, "customer.id: at most 100 characters"),
    Case(
        "responsible_id: 100 characters",
        lambda n: _order(responsible_id="r" * n),
        100,
        "responsible_id: at most 100 characters",
    ),
    Case(
        "shipments[].id: 100 characters",
        lambda n: _order(shipments=[{"id": "s" * n}]),
        100,
        "shipments[0].id: at most 100 characters",
    ),
    Case(
        "shipments: 50",
        lambda n: _order(shipments=[{"id": f"s{i}"} for i in range(n)]),
        50,
        "shipments: at most 50 items",
    ),
    Case(
        "customer e-mails: 20",
        lambda n: _customer(emails=[{"type": "work", "value": f"a{i}@x.example"} for i in range(n)]),
        20,
        "customer.emails: at most 20 items",
    ),
    Case(
        "an e-mail address: 320 characters",
        lambda n: _customer(emails=[{"type": "work", "value": "a" * (n - 10) + "@x.example"}]),
        320,
        "customer.emails[0].value: at most 320 characters",
    ),
    Case(
        "a name: 200 characters",
        lambda n: _customer(first_name="A" * n),
        200,
        "customer.first_name: at most 200 characters",
    ),
    Case(
        "an order: 64 KiB of JSON",
        lambda n: _padded_to(n, lambda pad: _order(fields={"note": pad}), NewOrder),
        limits.ORDER_BYTES,
        "the order is 65,537 bytes of JSON; at most 65,536",
    ),
]

EVENT_CASES = [
    Case(
        "event_id: 200 characters", lambda n: {**_event(), "event_id": "e" * n}, 200, "event_id: at most 200 characters"
    ),
    Case(
        "responsible_changed responsible_id: 100 characters",
        lambda n: _event("responsible_changed", responsible_id="r" * n),
        100,
        "data.responsible_id: at most 100 characters",
    ),
    Case(
        "a chat message's text: 20,000 characters",
        lambda n: _event("chat_message", channel_id="ch", text="t" * n),
        limits.TEXT_CHARS,
        "data.text: at most 20000 characters",
    ),
    Case(
        "a visited URL: 2,000 characters",
        lambda n: _event("visit", url="https://x.example/" + "p" * (n - 18)),
        limits.URL_CHARS,
        "data.url: at most 2000 characters",
    ),
    Case(
        "an event: 64 KiB of JSON",
        lambda n: _padded_to(n, lambda pad: _event("webhook", code="c", payload={"pad": pad}), Event),
        limits.EVENT_BYTES,
        "the event is 65,537 bytes of JSON; at most 65,536",
    ),
    Case(
        "an event: 32 levels deep",
        lambda n: _event("webhook", code="c", payload=_nested(n - 2)),  # the event and its data are 2 levels
        limits.JSON_DEPTH,
        "the event nests lists and mappings more than 32 deep",
    ),
]


def _nested(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


@pytest.mark.parametrize("case", ORDER_CASES + EVENT_CASES, ids=[c.guards for c in ORDER_CASES + EVENT_CASES])
def test_order_and_event_limits(case: Case) -> None:
    model: type[BaseModel] = NewOrder if case in ORDER_CASES else Event
    assert _problems(model, case.at_limit(case.limit)) == []
    assert case.problem in _problems(model, case.at_limit(case.limit + 1))


def test_ids_refuse_control_characters() -> None:
    assert _problems(NewOrder, _order(responsible_id="emp\nsales")) == [
        "responsible_id: must not contain control characters (line breaks, tabs...)"
    ]


def test_what_the_engine_wrote_itself_is_read_without_limits_added_since() -> None:
    """A running order carries what was valid when it started: reading it back must not fail."""
    old = _order(responsible_id="r" * 300, shipments=[{"id": f"s{i}"} for i in range(60)])
    assert NewOrder.model_validate(old, context=INSIDE).responsible_id == "r" * 300
    assert NewOrder.model_validate(_order(responsible_id=""), context=INSIDE).responsible_id == ""
    assert _problems(NewOrder, _order(responsible_id="")) == ["responsible_id: must not be empty"]
    stored = Pipeline.model_validate(yaml.safe_load(_pipeline(constants="{max-price: 5}")), context=INSIDE)
    assert stored.constants == {"max-price": 5}
    assert _pipeline_problems(_pipeline(constants="{max-price: 5}")) == [
        r"constants.max-price.[key]: must match [A-Za-z_]\w*"
    ]


def test_an_event_of_a_history_recorded_before_the_limits_is_taken_or_refused_as_it_was() -> None:
    """Replayed without the limits patch, an event meets the checks it met then, no more, no less."""
    before = [
        _event("call_incoming", line=""),  # empty ids were taken
        _event("webhook", code="c" * 100),  # a code longer than any trigger's
        _event("responsible_changed", responsible_id="r" * 3000),
    ]
    for raw in before:
        assert parse_event(raw, "engine", strict=False).type == raw["type"]
        with pytest.raises(InvalidEvent):
            parse_event(raw, "temporal")  # today, at the edge
    fields = {f"f{i}": "x" * 17_000 for i in range(4)}  # 68 KB: over the 64 KiB of then
    with pytest.raises(InvalidEvent, match="bytes of JSON; at most 65536"):
        parse_event(_event("form_submitted", form_id="f", fields=fields), "engine", strict=False)


# --- pipeline files ------------------------------------------------------------------------


def _pipeline(stages: str = "", constants: str = "{}", first: str = "") -> str:
    return f"""
id: shop
title: Shop
constants: {constants}
stages:
  - id: new
    title: New
{first}
{stages}
  - id: done
    title: Done
    final: success
"""


def _rules(n: int) -> str:
    return "    rules:\n" + "".join(f"      - {{type: write_to_log, params: {{message: m{i}}}}}\n" for i in range(n))


def _triggers(n: int) -> str:
    return "    triggers:\n" + "".join(f"      - {{type: webhook, params: {{code: c{i}}}}}\n" for i in range(n))


def _constants(values: list[str]) -> str:
    return "{" + ", ".join(f"k{i}: {value}" for i, value in enumerate(values)) + "}"


def _stages(n: int) -> str:
    # with the first and the last, n stages in all
    return "".join(f"  - {{id: s{i}, title: S{i}}}\n" for i in range(n - 2))


def _size(text: str) -> int:
    """The pipeline's JSON size as the limit counts it (read without the limit)."""
    return json_size(Pipeline.model_validate(yaml.safe_load(text), context=INSIDE).model_dump(mode="json"))


def _big_constants(size: int) -> str:
    """Constants of 2,000 characters, the last shorter, so that the pipeline's JSON is ``size`` bytes."""

    def written(count: int, last: int) -> tuple[str, int]:
        values = ["x" * limits.CONSTANT_CHARS] * count + ["x" * last]
        text = "{" + ", ".join(f"k{i:02d}: {value}" for i, value in enumerate(values)) + "}"
        return text, _size(_pipeline(constants=text))

    count = (size - _size(_pipeline())) // (limits.CONSTANT_CHARS + 8)
    _, measured = written(count, 1)
    text, measured = written(count, 1 + size - measured)
    assert measured == size
    return text


PIPELINE_CASES = [
    Case("stages: 50", lambda n: _pipeline(_stages(n)), limits.STAGES, "stages: at most 50 items"),
    Case(
        "rules of a stage: 50",
        lambda n: _pipeline(first=_rules(n)),
        limits.RULES_PER_STAGE,
        "stages[0].rules: at most 50 items",
    ),
    Case(
        "triggers of a stage: 50",
        lambda n: _pipeline(f"  - id: hooked\n    title: Hooked\n{_triggers(n)}"),
        limits.TRIGGERS_PER_STAGE,
        "stages[1].triggers: at most 50 items",
    ),
    Case(
        "constants: 100",
        lambda n: _pipeline(constants=_constants(["1"] * n)),
        limits.CONSTANTS,
        "constants: at most 100 entries",
    ),
    Case(
        "a text constant: 2,000 characters",
        lambda n: _pipeline(constants=_constants(["x" * n])),
        limits.CONSTANT_CHARS,
        "constants.k0: at most 2000 characters",
    ),
    Case(
        "a rule's title: 100 characters",
        lambda n: _pipeline(
            first=f"    rules:\n      - {{type: write_to_log, title: {'T' * n}, params: {{message: m}}}}"
        ),
        limits.TITLE_CHARS,
        "stages[0].rules[0].title: at most 100 characters",
    ),
    Case(
        "a delay: 3,650 days",
        lambda n: _pipeline(
            first=f"    rules:\n      - {{type: write_to_log, delay: {{after: {n}d}}, params: {{message: m}}}}"
        ),
        limits.DURATION_DAYS,
        "stages[0].rules[0].delay.after: at most 3,650 days",
    ),
    Case(
        "a pipeline: 128 KiB of JSON",
        lambda n: _pipeline(constants=_big_constants(n)),
        limits.PIPELINE_BYTES,
        "the pipeline is 131,073 bytes of JSON; at most 131,072",
    ),
]


def _pipeline_problems(text: str) -> list[str]:
    try:
        parse_pipeline(text)
    except PipelineError as err:
        return err.problems
    return []


@pytest.mark.parametrize("case", PIPELINE_CASES, ids=[c.guards for c in PIPELINE_CASES])
def test_pipeline_limits(case: Case) -> None:
    assert _pipeline_problems(case.at_limit(case.limit)) == []
    assert case.problem in _pipeline_problems(case.at_limit(case.limit + 1))


@pytest.mark.parametrize("written", ["99999999999d", "999999999999w", "P3651D", "PT99999999999H"])
def test_a_huge_duration_is_a_problem_not_a_crash(written: str) -> None:
    found = _pipeline_problems(
        _pipeline(first=f"    rules:\n      - {{type: wait, params: {{timeout: {{after: {written}}}}}}}")
    )
    assert len(found) == 1 and found[0].startswith("stages[0].rules[0].params.timeout.after: "), found


def test_the_readme_lists_every_limit() -> None:
    assert limits.limits_markdown() in README.read_text(), "regenerate: uv run python starter.py limits --write"
