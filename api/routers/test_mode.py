"""A scenario run on a test order, on simulated time, as ``orders test`` runs it: the
pipeline given (or the newest version of a stored one), the store's directory, a Temporal
test server and a store of the run's own. Needs the ``admin`` scope. One run at a time."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.auth import Administers
from api.dependencies import Store
from api.errors import InvalidRequest
from api.routers.pipelines import pipeline_of
from automation import limits
from automation.errors import describe
from automation.pipeline import Pipeline
from automation.scenario import RecordedMessage, Scenario
from store.database import session
from store.pipelines import newest_version, version_pipeline

router = APIRouter(tags=["test mode"])
_ONE_RUN = asyncio.Lock()
"""Each run starts a test server: they take turns."""


class TestRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pipeline: dict[str, Any] | None = Field(default=None, description="a pipeline as JSON, as its file; or else")
    pipeline_id: str | None = Field(default=None, max_length=limits.SLUG_CHARS, description="a stored pipeline")
    scenario: dict[str, Any] = Field(description="as a scenario file: order, steps (at, event, skip_pause, expect)")


class TestOutcome(BaseModel):
    passed: bool
    steps: list[list[str]] = Field(description="for each step, what it expected that did not hold (none: it passed)")
    messages: list[RecordedMessage] = Field(description="recorded, never sent")
    log: list[str] = Field(description="the test log, one line each, details indented")


@router.post("/pipelines/test", response_model=TestOutcome)
async def test_pipeline(caller: Administers, run: TestRun, store: Store) -> TestOutcome:
    """Runs the scenario on a test order of the pipeline; ``passed`` is false when an
    expectation failed (each is named in ``steps``). An invalid pipeline or scenario is a
    422 naming each problem's place."""
    pipeline = await _pipeline(run, store)
    caller.check_pipeline(pipeline.id)
    try:
        scenario = Scenario.model_validate(run.scenario)
    except ValidationError as err:
        raise InvalidRequest([f"scenario.{line}" for line in describe(err)]) from None
    from cli.scenario_runner import run_scenario  # the worker and a test server: loaded when used

    async with _ONE_RUN:
        report = await run_scenario(pipeline, scenario, store, order_id=f"test-api-{pipeline.id}")
    return TestOutcome(passed=report.passed, steps=report.steps, messages=report.messages, log=report.log)


async def _pipeline(run: TestRun, store: Any) -> Pipeline:
    if (run.pipeline is None) == (run.pipeline_id is None):
        raise InvalidRequest(["give either pipeline (as JSON) or pipeline_id (a stored one)"])
    if run.pipeline is not None:
        try:
            return pipeline_of(run.pipeline)
        except InvalidRequest as err:
            raise InvalidRequest([f"pipeline.{line}" for line in err.problems]) from None
    async with session(store) as db:
        newest = await newest_version(db, run.pipeline_id or "")
    if newest is None:
        raise InvalidRequest([f"pipeline_id: no pipeline {run.pipeline_id!r} in the store"])
    return version_pipeline(newest)
