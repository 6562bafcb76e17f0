"""The linter: a test pipeline for each finding shows it found, and the example lints clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.events import EVENT_TYPES
from automation.lint import lint
from automation.pipeline import load_pipeline, parse_pipeline
from automation.rule_kinds import RULE_KINDS

ROOT = Path(__file__).resolve().parents[2]
HEAD = (
    "id: shop\ntitle: Shop\nconstants: {shop_name: Acme}\n"
    "variables: {nope: string, count: {type: integer, default: 0}}\nstages:\n"
)
DONE = "  - {id: done, title: Done, final: success, triggers: [{type: shipped}]}\n"


def _lines(stages: str) -> list[str]:
    return [finding.line() for finding in lint(parse_pipeline(HEAD + stages + DONE))]


def test_the_example_pipeline_lints_clean() -> None:
    assert lint(load_pipeline(ROOT / "examples" / "online_store.yaml")) == []


def test_every_event_a_rule_says_it_raises_is_in_the_catalog() -> None:
    assert {event for kind in RULE_KINDS.values() for event in kind.raises} <= set(EVENT_TYPES)


FINDINGS = {
    "a trigger loop through allow-back": (
        "  - {id: a, title: A, triggers: [{type: payment, allow_back: true}],"
        " rules: [{type: change_responsible, params: {employee_id: emp-sales}}]}\n"
        "  - {id: b, title: B, triggers: [{type: responsible_changed}], rules: [{type: pay_order}]}\n",
        "warning: stages[0]: trigger loop a -> b -> a (a -> b: rule 1 (Change responsible) raises "
        "responsible_changed, which a trigger of 'b' takes; b -> a: rule 1 (Pay order) raises payment, which a "
        "trigger of 'a' takes); the engine stops it after a few rounds",
    ),
    "a stage nothing reaches": (
        "  - {id: new, title: New}\n"
        "  - {id: limbo, title: Limbo, rules: [{type: write_to_log, params: {message: x}}]}\n",
        "warning: stages[1]: stage 'limbo' cannot be reached: no trigger, no Change status leads there, and it is "
        "not the first; its rules never run",
    ),
    "a rule after a move in its chain": (
        "  - id: new\n    title: New\n    rules:\n      - {type: change_status, params: {stage: done}}\n"
        "      - {type: write_to_log, after_previous: true, params: {message: never}}\n",
        "warning: stages[0].rules[1]: never runs: rule 1 (Change status) before it in its chain moves the order away",
    ),
    "a variable read before its stage sets it": (
        "  - id: new\n    title: New\n    rules:\n"
        "      - {type: write_to_log, params: {message: '{{ variables.code }}'}}\n"
        "      - {type: generate_code, params: {pattern: 'A-###', variable: code}}\n",
        "warning: stages[0].rules[0]: reads variables.code before rule 2 of its stage sets it (later, or in a "
        "parallel chain)",
    ),
    "a variable no rule sets": (
        "  - id: new\n    title: New\n    rules:\n"
        "      - {type: write_to_log, condition: {field: variables.nope, op: empty}, params: {message: x}}\n",
        "warning: stages[0].rules[0]: reads variables.nope, which no rule sets and has no default: it renders empty",
    ),
    "a Wait with no deadline": (
        "  - id: new\n    title: New\n    rules: [{type: wait}]\n",
        "warning: stages[0].rules[0]: a Wait with no deadline (timeout): it waits for the customer for ever",
    ),
}


@pytest.mark.parametrize("name", FINDINGS)
def test_each_finding_is_found_with_its_place_and_severity(name: str) -> None:
    stages, expected = FINDINGS[name]
    assert _lines(stages) == [expected]


def test_a_variable_with_a_default_is_read_before_any_rule_sets_it() -> None:
    assert (
        _lines(
            "  - id: new\n    title: New\n    rules:\n"
            "      - {type: write_to_log, params: {message: '{{ variables.count }}'}}\n"
        )
        == []
    )


def test_a_variable_set_earlier_in_the_chain_or_read_by_prefix_is_fine() -> None:
    assert (
        _lines(
            "  - id: new\n    title: New\n    rules:\n"
            "      - {type: generate_code, params: {pattern: 'A-###', variable: code}}\n"
            "      - {type: detailed_information, after_previous: true}\n"
            "      - {type: write_to_log, after_previous: true,"
            " params: {message: '{{ variables.code }} {{ variables.customer_email }} {{ constants.shop_name }}'}}\n"
        )
        == []
    )


def test_stages_that_all_move_each_other_are_one_loop_found_at_once() -> None:
    """Listing every round among ten stages that all move each other would take minutes."""
    ids = [f"s{i}" for i in range(10)]
    stages = "".join(
        f"  - id: {stage}\n    title: {stage}\n    rules:\n"
        + "".join(f"      - {{type: change_status, params: {{stage: {other}}}}}\n" for other in ids if other != stage)
        for stage in ids
    )
    [loop] = lint(parse_pipeline(HEAD + stages + DONE))
    assert loop.place == "stages[0]"
    assert loop.message.startswith("trigger loop s0 -> s1 -> s0 (and 8 more stage(s) in the same loop)")


def test_no_false_alarm_after_a_move_that_may_not_happen_or_from_a_variable_set_in_another_stage() -> None:
    assert (
        _lines(
            "  - id: new\n    title: New\n    rules:\n"
            "      - {type: generate_code, params: {pattern: 'A-###', variable: code}}\n"
            "  - id: paid\n    title: Paid\n    triggers: [{type: payment}]\n    rules:\n"
            "      - {type: change_status, condition: {field: order.total, op: '>', value: 100},"
            " params: {stage: done}}\n"
            "      - {type: write_to_log, after_previous: true, params: {message: '{{ variables.code }}'}}\n"
            "      - {type: generate_code, params: {pattern: 'B-###', variable: code}}\n"
            "      - {type: change_status, params: {stage: paid}}\n"
            "      - {type: write_to_log, after_previous: true, params: {message: after a move to its own stage}}\n"
        )
        == []
    )
