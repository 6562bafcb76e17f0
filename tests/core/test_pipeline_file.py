"""Pipeline files: the example is valid, and mistakes are refused naming the exact place."""

from __future__ import annotations

import json

import pytest

from automation.converter import data_converter
from automation.events import EVENT_TYPES
from automation.models import INSIDE
from automation.pipeline import Pipeline, PipelineError, parse_pipeline
from automation.rule_kinds import RULE_KINDS

VALID_TAIL = """
  - id: done
    title: Done
    final: success
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PipelineError) as refused:
        parse_pipeline(text, "test.yaml")
    return refused.value.problems


def test_the_example_uses_every_rule_type(example_pipeline: Pipeline) -> None:
    used = {rule.type for stage in example_pipeline.stages for rule in stage.rules}
    assert used == set(RULE_KINDS)


def test_the_example_uses_every_trigger(example_pipeline: Pipeline) -> None:
    used = {trigger.type for stage in example_pipeline.stages for trigger in stage.triggers}
    assert used == set(EVENT_TYPES)


def test_a_too_long_text_is_refused_with_its_path() -> None:
    text = "x" * 1001
    found = problems(f"""
id: p
title: P
stages:
  - id: new
    title: New
  - id: paid
    title: Paid
    rules:
      - type: write_to_log
        params: {{message: hi}}
      - type: notification
        params: {{text: "{text}"}}
{VALID_TAIL}""")
    assert found == ["stages[1].rules[1].params.text: at most 1000 characters"]


def test_every_problem_is_listed_with_its_place() -> None:
    found = problems("""
id: Bad Id
title: P
stages:
  - id: new
    title: New
    triggers:
      - type: paymnt
      - type: email_link_clicked
      - type: webhook
        params: {code: abc, colour: red}
    rules:
      - type: send_email
        params: {subject: "{{ order.id ", body: hi}
      - type: change_status
        params: {stage: nowhere}
      - type: wait
        delay: {after: 2h, at: "2026-01-01T00:00:00Z"}
        params: {}
      - type: add_comment
        condition: {field: order.total, op: between, value: 5}
        params: {text: hi}
      - type: teleport
  - id: new
    title: Again
""")
    assert found == [
        "id: must match ^[a-z][a-z0-9_-]*$",
        "stages[0].triggers[0].type: unknown event type 'paymnt'; known types: " + ", ".join(sorted(EVENT_TYPES)),
        "stages[0].triggers[1].params.url: required",
        "stages[0].triggers[2].params.colour: unknown field",
        "stages[0].rules[0].params.subject: template error on line 1: unexpected end of template, "
        "expected 'end of print statement'.",
        "stages[0].rules[2].delay: give exactly one of 'after', 'at', 'time_of_day' or 'field'",
        "stages[0].rules[3].condition.any[0][0]: operator 'between' needs a list value",
        "stages[0].rules[4].type: unknown rule type 'teleport'; known types: " + ", ".join(sorted(RULE_KINDS)),
    ]


def test_stage_references_and_final_stages_are_checked() -> None:
    found = problems("""
id: p
title: P
stages:
  - id: new
    title: New
    rules:
      - type: change_status
        params: {stage: nowhere}
  - id: lost
    title: Lost
    final: failure
  - id: new
    title: Duplicate
  - id: won
    title: Won
    final: success
  - id: after
    title: After success
""")
    assert found == [
        "stages[0].rules[0].params: unknown stage 'nowhere'",
        "stages[2].id: duplicate stage id 'new'",
        "stages[1].final: failure stages come after the success stage",
        "stages[4].final: stages after the success stage must be failure stages",
    ]


def test_broken_yaml_says_where() -> None:
    assert problems("id: p\nstages: [\n") == ["line 3, column 1: expected the node content, but found '<stream end>'"]


def test_rules_form_branches_by_after_previous() -> None:
    pipeline = parse_pipeline(f"""
id: p
title: P
stages:
  - id: new
    title: New
    rules:
      - {{type: write_to_log, params: {{message: a}}}}
      - {{type: write_to_log, after_previous: true, params: {{message: b}}}}
      - {{type: write_to_log, params: {{message: c}}}}
      - {{type: write_to_log, params: {{message: d}}}}
      - {{type: write_to_log, after_previous: true, params: {{message: e}}}}
      - {{type: write_to_log, after_previous: true, params: {{message: f}}}}
{VALID_TAIL}""")
    assert pipeline.stages[0].branches() == [[0, 1], [2], [3, 4, 5]]


def test_a_file_is_read_strictly_but_a_stored_pipeline_tolerantly(example_pipeline: Pipeline) -> None:
    """A parameter a later version dropped must not break the orders that carry it."""
    stored = example_pipeline.model_dump(mode="json")
    stored["stages"][0]["rules"][0]["params"]["from_an_older_version"] = "x"
    payload = data_converter.payload_converter.to_payloads([stored])[0]
    for read in (
        Pipeline.model_validate(stored, context=INSIDE),  # as the store reads it
        data_converter.payload_converter.from_payload(payload, Pipeline),  # as Temporal's converter does
    ):
        assert read.model_dump(mode="json") == stored  # plain data, kept as it was
        for stage, original in zip(read.stages, example_pipeline.stages, strict=True):
            assert [r.params_model() for r in stage.rules] == [r.params_model() for r in original.rules]
    with pytest.raises(PipelineError) as refused:
        parse_pipeline(json.dumps(stored))
    assert refused.value.problems == ["stages[0].rules[0].params.from_an_older_version: unknown field"]
