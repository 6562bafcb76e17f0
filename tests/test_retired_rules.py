"""Running orders do not depend on today's rule kinds: an order keeps its rules' params as
the plain data they were validated as, and a rule whose kind is gone, or whose params no
longer fit its kind, fails when it comes to run, saying why, while the order goes on."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.rules.base import WorkerResources
from automation.converter import data_converter
from automation.models import INSIDE
from automation.order import workflow_id
from automation.pipeline import Pipeline, parse_pipeline
from automation.state import OrderView
from tests.conftest import running_engine, seed
from tests.helpers import eventually, started_order
from workflows.order import OrderWorkflow

HISTORIES = Path(__file__).parent / "histories"


def _retire_rules(pipeline: dict[str, Any]) -> None:
    """As if the engine changed since the order began: Write to log of ``completed`` is a
    kind that no longer exists, and Schedule call of ``contacted`` lacks a parameter that
    is required now (two stages the recorded order never enters)."""
    stages = {stage["id"]: stage for stage in pipeline["stages"]}
    stages["completed"]["rules"][0]["type"] = "retired_rule"
    del stages["contacted"]["rules"][0]["params"]["subject"]


def _with_retired_rules(recorded: str) -> str:
    """The recorded history, its pipeline (the result of ``start_versioned_order``, a local
    activity, or of ``start_order`` or ``load_pipeline`` in older histories) changed."""
    history = json.loads(recorded)
    changed = 0
    for event in history["events"]:
        result = event.get("activityTaskCompletedEventAttributes", {}).get("result")
        marker = event.get("markerRecordedEventAttributes", {}).get("details", {}).get("result")
        for payload in [*(result or {}).get("payloads", []), *(marker or {}).get("payloads", [])]:
            value = json.loads(base64.b64decode(payload["data"])) if "data" in payload else None
            pipeline = value.get("pipeline") if isinstance(value, dict) and "outcome" in value else value
            if isinstance(pipeline, dict) and "stages" in pipeline:  # start_versioned_order's has the version too
                _retire_rules(pipeline)
                payload["data"] = base64.b64encode(json.dumps(value).encode()).decode()
                changed += 1
    assert changed == 1, "the history loads its pipeline once"
    return json.dumps(history)


async def test_a_recorded_order_whose_rule_kinds_changed_since_still_replays() -> None:
    recorded = _with_retired_rules((HISTORIES / "lifecycle-run1.json").read_text())
    started = json.loads(recorded)["events"][0]["workflowExecutionStartedEventAttributes"]
    order_id = json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))["order"]["order_id"]
    history = WorkflowHistory.from_json(workflow_id(order_id), recorded)
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"no longer replays: {result.replay_failure}"


def _stored_long_ago() -> Pipeline:
    """A pipeline as a store may hold it from an older version of the engine."""
    pipeline = parse_pipeline("""
id: long-ago
title: Stored long ago
stages:
  - id: new
    title: New
    rules:
      - {type: write_to_log, title: Retired, params: {message: a}}
      - {type: write_to_log, title: Now stricter, params: {message: b}}
      - {type: write_to_log, title: Still fine, params: {message: c}}
      - {type: write_to_log, title: After the fine one, after_previous: true, params: {message: d}}
  - {id: done, title: Done, final: success, triggers: [{type: payment}]}
""")
    stored = pipeline.model_dump(mode="json")
    rules = stored["stages"][0]["rules"]
    rules[0]["type"] = "retired_rule"
    del rules[1]["params"]["message"]
    return Pipeline.model_validate(stored, context=INSIDE)  # as the store reads it


async def test_a_rule_whose_kind_or_params_changed_fails_when_it_comes_to_run(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, _stored_long_ago())
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "long-ago")

        async def settled() -> OrderView | None:
            view = await engine.orders.state(order.order_id)
            return view if all(rule.status in ("done", "failed", "skipped") for rule in view.rules) else None

        view = await eventually(settled)
    statuses = {rule.title: rule.status for rule in view.rules}
    assert statuses == {"Retired": "failed", "Now stricter": "failed", "Still fine": "done",
                        "After the fine one": "done"}  # fmt: skip
    failures = [entry.message for entry in view.timeline if entry.kind == "rule_failed"]
    assert failures == [
        "rule 1 (Retired): failed, this version of the engine has no rule type 'retired_rule'",
        "rule 2 (Now stricter): failed, its parameters no longer fit write_to_log: message: required",
    ]
