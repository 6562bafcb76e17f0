"""Test mode on the command line: ``orders test PIPELINE SCENARIO`` (a scenario on simulated
time, exit 1 if an expectation fails), and for a test order on the running engine
(``create-order --test``): ``skip-pause ORDER`` and ``test-log ORDER``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from cli.common import store_engine


def add_commands(commands: Any) -> None:
    trial = commands.add_parser("test", help="run a pipeline on a test order by a scenario, on simulated time")
    trial.add_argument("pipeline", help="a pipeline file, or the id of a stored pipeline (its newest version)")
    trial.add_argument("scenario", help="a scenario file: the events, their times, what is expected")
    trial.add_argument("--directory", help="a directory file (employees, lists...) for the test's store")
    trial.add_argument("--quiet", action="store_true", help="results only: no messages, no test log")
    commands.add_parser("skip-pause", help="a test order's delays and Waits end now").add_argument("order_id")
    commands.add_parser("test-log", help="a test order's test log: rules, conditions, triggers").add_argument(
        "order_id"
    )


async def run(args: argparse.Namespace) -> None:
    match args.command:
        case "test":
            await _test(args)
        case "skip-pause":
            await _skip_pause(args.order_id)
        case "test-log":
            await _test_log(args.order_id)


async def _test(args: argparse.Namespace) -> None:
    from automation.pipeline import load_pipeline
    from automation.scenario import load_scenario
    from cli.scenario_runner import print_report
    from store.directory import read_directory

    stored = not Path(args.pipeline).is_file()
    engine = await store_engine() if stored else None  # a stored pipeline: tried with the store's directory
    try:
        pipeline = await _stored(engine, args.pipeline) if engine is not None else load_pipeline(args.pipeline)
        scenario = load_scenario(args.scenario)
        directory = read_directory(args.directory) if args.directory else engine
        report = await _run(pipeline, scenario, directory, args.scenario)
    finally:
        if engine is not None:
            await engine.dispose()
    if args.quiet:
        print(report.summary)
    else:
        print_report(report, print)
    if not report.passed:
        raise SystemExit(1)


async def _run(pipeline: Any, scenario: Any, directory: Any, path: str) -> Any:
    from cli.scenario_runner import run_scenario

    order_id = "test-" + re.sub(r"[^A-Za-z0-9_.:-]", "-", Path(path).stem)[:60]
    title = f" ({scenario.title})" if scenario.title else ""
    print(f"scenario {path}{title} on pipeline {pipeline.id!r}: test order {order_id}, simulated time")
    return await run_scenario(pipeline, scenario, directory, order_id, print)


async def _stored(engine: Any, pipeline_id: str) -> Any:
    from store.database import session
    from store.pipelines import newest_version, version_pipeline

    async with session(engine) as db:
        newest = await newest_version(db, pipeline_id)
    if newest is None:
        raise SystemExit(f"{pipeline_id}: no such file, and no pipeline of that id in the store")
    return version_pipeline(newest)


async def _skip_pause(order_id: str) -> None:
    from temporalio.client import WorkflowUpdateFailedError

    from order_client import OrderClient, connect

    try:
        print(await OrderClient(await connect()).skip_pause(order_id))
    except WorkflowUpdateFailedError as err:
        raise SystemExit(f"order {order_id}: {getattr(err.cause, 'message', err)}") from None


async def _test_log(order_id: str) -> None:
    from automation.state import TimelineEntry
    from automation.testlog import lines
    from store.database import session
    from store.orders import read_timeline
    from store.tables import Order

    engine = await store_engine()
    try:
        async with session(engine) as db:
            row = await db.get(Order, order_id)
            records = await read_timeline(db, order_id)
    finally:
        await engine.dispose()
    if row is None:
        raise SystemExit(f"no order {order_id!r} in the store")
    if not row.test:
        raise SystemExit(f"order {order_id!r} is a real order: only a test order keeps a test log (orders show)")
    for line in lines(TimelineEntry.model_validate(record, from_attributes=True) for record in records):
        print(line)
