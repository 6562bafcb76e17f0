"""``orders pipeline ...``: the pipelines in the store and their versions, listed, shown,
compared, and an earlier one made current again (as a new version)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from automation.copying import Item
from automation.errors import describe
from automation.versions import Change, parse_stage_moves
from cli.common import print_json, store_engine

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from store.pipelines import StageMovesNeeded, Stored

MOST_CHANGES_SHOWN = 40
"""Changes printed under a version; ``pipeline diff`` prints them all."""
ANNOUNCE_WITHIN = 5.0
"""Seconds to reach Temporal to announce a new version to the running orders."""


def add_commands(commands: Any) -> None:
    group = commands.add_parser("pipeline", help="pipelines and their versions: list, versions, show, diff, restore")
    actions = group.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every pipeline, its newest version").add_argument("--json", action="store_true")
    versions = actions.add_parser("versions", help="every version of a pipeline, newest last")
    versions.add_argument("pipeline_id")
    versions.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one version: who stored it when, what it changed, its content")
    show.add_argument("pipeline_id")
    show.add_argument("--version", type=int, help="its number (default: the newest)")
    show.add_argument("--json", action="store_true")
    diff = actions.add_parser("diff", help="what one version changes in another")
    diff.add_argument("pipeline_id")
    diff.add_argument("first", type=int, help="a version's number")
    diff.add_argument("second", type=int, nargs="?", help="another (default: the newest)")
    diff.add_argument("--json", action="store_true")
    restore = actions.add_parser("restore", help="make an earlier version current again, as a new version")
    restore.add_argument("pipeline_id")
    restore.add_argument("version", type=int)
    add_stage_moves(restore)
    for verb in ("copy", "move"):
        copying = actions.add_parser(verb, help=f"{verb} rules and triggers to a stage of this or another pipeline")
        copying.add_argument("pipeline_id", help="the pipeline they are in")
        copying.add_argument(
            "--rule", action="append", default=[], metavar="STAGE:N", help="rule N of STAGE (1 = first)"
        )
        copying.add_argument("--trigger", action="append", default=[], metavar="STAGE:N", help="trigger N of STAGE")
        copying.add_argument("--to", required=True, metavar="[PIPELINE:]STAGE", help="where they go (the end of it)")
    listed = actions.add_parser("constants", help="a pipeline's constants: the file's values and those set since")
    listed.add_argument("pipeline_id")
    listed.add_argument("--json", action="store_true")
    setting = actions.add_parser("set-constant", help="set a constant without editing the file (rules read it at once)")
    setting.add_argument("pipeline_id")
    setting.add_argument("name")
    setting.add_argument("value", help="as its type: a text, a number, true or false")
    unsetting = actions.add_parser("unset-constant", help="back to the value the pipeline file gives it")
    unsetting.add_argument("pipeline_id")
    unsetting.add_argument("name")
    seen = actions.add_parser("preview", help="what loading a file would do to the running orders; changes nothing")
    seen.add_argument("file")
    add_stage_moves(seen)
    seen.add_argument("--json", action="store_true")


def add_stage_moves(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--move-orders", action="append", default=[], metavar="OLD=NEW",
        help="a stage the new version removes = where an order that would enter it goes (repeat for more)",
    )  # fmt: skip


def stage_moves(args: argparse.Namespace) -> dict[str, str]:
    """``--move-orders old=new ...`` as a mapping; a malformed one stops the command, saying why."""
    try:
        return parse_stage_moves(args.move_orders, "--move-orders")
    except ValueError as err:
        raise SystemExit(str(err)) from None


async def run(args: argparse.Namespace) -> None:
    from store.access import audit, local_actor
    from store.database import session
    from store.pipelines import NoSuchVersion, StageMovesNeeded, VersionConflict

    engine = await store_engine()
    try:
        async with session(engine) as db:
            match args.action:
                case "list":
                    await _list(db, args.json)
                case "versions":
                    await _versions(db, args.pipeline_id, args.json)
                case "show":
                    await _show(db, args.pipeline_id, args.version, args.json)
                case "diff":
                    await _diff(db, args.pipeline_id, args.first, args.second, args.json)
                case "copy" | "move":
                    await _copy(db, args)
                case "constants" | "set-constant" | "unset-constant":
                    await _constants(db, args)
                case "preview":
                    await _preview(db, args.file, stage_moves(args), args.json)
                case "restore":
                    stored = await _restore(db, args.pipeline_id, args.version, local_actor(), stage_moves(args))
                    if stored.new:
                        detail = {"version": stored.version.number, "from": args.version}
                        await audit(db, local_actor(), "pipeline_restored", args.pipeline_id, detail)
                    await db.commit()
                    print_stored(args.pipeline_id, stored)
                    await announce(stored)
    except NoSuchVersion as err:
        raise SystemExit(str(err)) from None
    except StageMovesNeeded as err:
        raise SystemExit(refused(err)) from None
    except VersionConflict as err:
        raise SystemExit(str(err)) from None
    finally:
        await engine.dispose()


async def announce(stored: Stored) -> None:
    """A new version, told to the running orders of its pipeline: they take it at their next
    stage entry (with Temporal out of reach, within a minute all the same)."""
    if not stored.new:
        return
    from order_client import OrderClient, connect

    try:
        client = await asyncio.wait_for(connect(), ANNOUNCE_WITHIN)
    except (RuntimeError, TimeoutError, OSError):
        print("  not announced (Temporal not reached): running orders take it within a minute")
        return
    if await OrderClient(client).announce_version(stored.record.id, stored.version.number):
        print("  announced to the running orders: each takes it at its next stage entry")
    else:
        print("  not announced (Temporal refused it, see the log): running orders take it within a minute")


def print_stored(pipeline_id: str, stored: Stored) -> None:
    """What a load or a restore stored."""
    version = stored.version
    if not stored.new:
        print(f"pipeline {pipeline_id!r} unchanged: version {version.number} has this content")
        return
    stages = len(version.definition["stages"])
    print(f"pipeline {pipeline_id!r}: version {version.number} stored ({stages} stages, {version.source})")
    for change in version.changes[:MOST_CHANGES_SHOWN] if version.number > 1 else ():
        print("  " + Change.model_validate(change).line())
    if version.number > 1 and len(version.changes) > MOST_CHANGES_SHOWN:
        print(f"  ... and {len(version.changes) - MOST_CHANGES_SHOWN} more (`orders pipeline diff`)")


async def _list(db: AsyncSession, as_json: bool) -> None:
    from store.pipelines import list_pipelines

    rows = [
        {"id": record.id, "title": record.title, "version": newest.number, "loaded_at": record.loaded_at,
         "loaded_by": newest.loaded_by}
        for record, newest in await list_pipelines(db)
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for row in rows:
        print(f"{row['id']:<24} version {row['version']:<4} {row['loaded_at']:%Y-%m-%d %H:%M}  {row['title']}")


async def _versions(db: AsyncSession, pipeline_id: str, as_json: bool) -> None:
    from store.pipelines import NoSuchVersion, list_versions

    found = await list_versions(db, pipeline_id)
    if not found:
        raise NoSuchVersion(f"no pipeline {pipeline_id!r}")
    if as_json:
        print_json([v.model_dump(mode="json", exclude={"definition"}) for v in found])
        return
    for v in found:
        print(f"{v.number:>4}  {v.loaded_at:%Y-%m-%d %H:%M:%S}  {v.loaded_by:<20} {len(v.changes):>3} change(s)  "
              f"{v.content_hash[:12]}  {v.source}")  # fmt: skip


async def _show(db: AsyncSession, pipeline_id: str, number: int | None, as_json: bool) -> None:
    from store.pipelines import NoSuchVersion, newest_version, version_of

    version = await version_of(db, pipeline_id, number) if number is not None else await newest_version(db, pipeline_id)
    if version is None:
        raise NoSuchVersion(f"no pipeline {pipeline_id!r}")
    if as_json:
        print_json(version.model_dump(mode="json"))
        return
    print(f"# pipeline {pipeline_id!r}, version {version.number} ({version.content_hash[:12]})")
    print(f"# stored {version.loaded_at:%Y-%m-%d %H:%M:%S} by {version.loaded_by}, from {version.source}")
    for change in version.changes if version.number > 1 else ():
        print("#   " + Change.model_validate(change).line())
    print(yaml.safe_dump(version.definition, sort_keys=False, allow_unicode=True), end="")


async def _diff(db: AsyncSession, pipeline_id: str, first: int, second: int | None, as_json: bool) -> None:
    from store.pipelines import diff_versions, newest_version

    if second is None:
        newest = await newest_version(db, pipeline_id)
        second = newest.number if newest else first
    found = await diff_versions(db, pipeline_id, first, second)
    if as_json:
        print_json([change.model_dump() for change in found])
        return
    print(f"pipeline {pipeline_id!r}, version {first} -> {second}: {len(found)} change(s)")
    for change in found:
        print("  " + change.line())


def _items(args: argparse.Namespace) -> list[Item]:
    items = []
    for kind, texts in (("rule", args.rule), ("trigger", args.trigger)):
        for text in texts:
            stage, _, number = text.rpartition(":")
            if not stage or not number.isdigit() or int(number) < 1:
                raise SystemExit(f"--{kind} {text!r}: write it STAGE:N, e.g. paid:2 (N = 1 for the first)")
            items.append(Item(kind=kind, stage=stage, number=int(number)))
    if not items:
        raise SystemExit(f"{args.action}: name what goes with --rule STAGE:N or --trigger STAGE:N")
    return items


async def _copy(db: AsyncSession, args: argparse.Namespace) -> None:
    from store.access import local_actor
    from store.pipelines import copy_rules

    target, _, stage = args.to.rpartition(":")
    items, move = _items(args), args.action == "move"
    outcome = await copy_rules(db, args.pipeline_id, items, target or args.pipeline_id, stage, move=move,
                               actor=local_actor())  # fmt: skip
    await db.commit()
    for item in outcome.went:
        print(f"{args.action}: {item.label()}")
    for line in outcome.refused:
        print(f"not {'moved' if move else 'copied'}: {line}")
    for stored in outcome.stored:
        print_stored(stored.record.id, stored)
        await announce(stored)
    if outcome.refused:
        raise SystemExit(1)


async def _constants(db: AsyncSession, args: argparse.Namespace) -> None:
    from store.access import local_actor
    from store.constants import ConstantRefused, list_constants, set_constant, unset_constant

    try:
        if args.action == "set-constant":
            await set_constant(db, args.pipeline_id, args.name, args.value, local_actor(), typed_in=True)
        elif args.action == "unset-constant" and not await unset_constant(db, args.pipeline_id, args.name,
                                                                            local_actor()):  # fmt: skip
            raise SystemExit(f"constant {args.name!r} of {args.pipeline_id!r} was not set: it has the file's value")
    except (ConstantRefused, ValueError) as err:
        raise SystemExit(str(err) if isinstance(err, ConstantRefused) else f"constant {args.name!r}: {err}") from None
    await db.commit()
    rows = await list_constants(db, args.pipeline_id)
    if args.action == "constants" and args.json:
        print_json([row.model_dump() for row in rows])
        return
    for row in rows:
        if args.action == "constants" or row.name == args.name:
            set_since = f"  (set by {row.set_by} at {row.set_at}; the file says {row.in_file!r})" if row.set_by else ""
            print(f"{row.name} ({row.type}) = {row.value!r}{set_since}")


def refused(err: StageMovesNeeded) -> str:
    return "refused, nothing stored:\n  " + "\n  ".join(err.problems)


async def _preview(db: AsyncSession, path: str, moves: dict[str, str], as_json: bool) -> None:
    from automation.pipeline import load_pipeline
    from store.pipelines import preview_pipeline

    pipeline = load_pipeline(path)
    seen = await preview_pipeline(db, pipeline, moves)
    if as_json:
        print_json({"newest": seen.newest, "occupied": seen.occupied, "problems": seen.problems,
                    "reaches": [reach.model_dump() for reach in seen.reaches]})  # fmt: skip
        return
    where = ", ".join(f"{stage} {count}" for stage, count in sorted(seen.occupied.items())) or "none"
    if seen.newest is None:
        print(f"pipeline {pipeline.id!r} is new: it would be its version 1")
    else:
        print(f"pipeline {pipeline.id!r}: version {seen.newest} -> {seen.newest + 1}, "
              f"{len(seen.reaches)} change(s); orders by stage: {where}")  # fmt: skip
    for reach in seen.reaches:
        print(f"  {reach.change.line()}\n      {reach.how}")
    for problem in seen.problems:
        print(f"  refused: {problem}")
    if seen.problems:
        raise SystemExit(1)


async def _restore(db: AsyncSession, pipeline_id: str, number: int, actor: str, moves: dict[str, str]) -> Stored:
    from store.pipelines import restore_version

    try:
        return await restore_version(db, pipeline_id, number, actor=actor, stage_moves=moves)
    except ValidationError as err:
        problems = "\n  ".join(describe(err))
        raise SystemExit(f"version {number} of {pipeline_id!r} is no longer valid here:\n  {problems}") from None
