"""``POST /pipelines/test``: a scenario run on simulated time through the API, as ``orders
test`` runs it; the store's directory is copied into the run's own store; bad input is a
422 naming each problem's place, and nothing of the real store changes."""

from __future__ import annotations

from typing import Any

import httpx

from activities.rules.base import WorkerResources
from store.database import session
from store.messages import list_messages
from store.pipelines import list_versions
from tests.conftest import seed

TRIAL: dict[str, Any] = {
    "id": "trial",
    "title": "Trial",
    "stages": [
        {"id": "new", "title": "New", "rules": [
            {"type": "notification", "title": "Tell the manager", "delay": {"after": "1d"},
             "params": {"employee_id": "emp-manager", "text": "order {{ order.id }} waits"}}]},
        {"id": "paid", "title": "Paid", "triggers": [{"type": "payment"}]},
        {"id": "done", "title": "Done", "final": "success"},
    ],
}  # fmt: skip
SCENARIO = {"steps": [
    {"expect": {"rules": {"Tell the manager": "waiting"}}},
    {"at": "1d1h", "expect": {"rules": {"Tell the manager": "done"}}},
    {"at": "2d", "event": {"type": "payment", "data": {"amount": 10, "currency": "EUR"}}, "expect": {"stage": "done"}},
]}  # fmt: skip


async def test_a_scenario_runs_on_simulated_time_and_names_what_failed(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await seed(deps.engine)  # the example directory: emp-manager is in it
    answer = await admin.post("/pipelines/test", json={"pipeline": TRIAL, "scenario": SCENARIO})
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert outcome["passed"] is False
    assert outcome["steps"] == [[], [], ["expect.stage: wanted 'done', the order is at 'paid'"]]
    assert any("rule 1 (Tell the manager): finished, notified" in line for line in outcome["log"])
    async with session(deps.engine) as db:  # the run had a store of its own
        assert await list_versions(db, "trial") == []
        assert await list_messages(db) == []


async def test_a_bad_pipeline_or_scenario_is_refused_naming_its_place(admin: httpx.AsyncClient) -> None:
    bad_rule = {**TRIAL, "stages": [{"id": "new", "title": "New", "rules": [{"type": "nope"}]}, *TRIAL["stages"][1:]]}
    refused = await admin.post("/pipelines/test", json={"pipeline": bad_rule, "scenario": SCENARIO})
    assert refused.status_code == 422
    assert refused.json()["errors"][0].startswith("pipeline.stages[0].rules[0].type: unknown rule type 'nope'")
    late = {"steps": [{"at": "2d"}, {"at": "1d", "expect": {"stage": "paid", "colour": "red"}}]}
    refused = await admin.post("/pipelines/test", json={"pipeline": TRIAL, "scenario": late})
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["scenario.steps[1].expect.colour: unknown field"]
    both = await admin.post("/pipelines/test", json={"pipeline": TRIAL, "pipeline_id": "trial", "scenario": SCENARIO})
    assert both.json()["errors"] == ["give either pipeline (as JSON) or pipeline_id (a stored one)"]
    unknown = await admin.post("/pipelines/test", json={"pipeline_id": "nope", "scenario": SCENARIO})
    assert unknown.json()["errors"] == ["pipeline_id: no pipeline 'nope' in the store"]
