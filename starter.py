"""The command line for services and ops. Run ``uv run python starter.py --help``.

starter.py validate examples/online_store.yaml   (lint FILE: the linter alone)
starter.py load-pipeline examples/online_store.yaml
starter.py load-directory examples/directory.yaml
starter.py create-order 1001 --pipeline online-store --customer-json '{"id": "c1", ...}'
starter.py send-event 1001 payment --data '{"amount": 120, "currency": "EUR"}' [--wait]
starter.py show 1001 [--json]
starter.py list --stage paid [--json]
starter.py keys create billing --scope events:write [--scope orders:read] [--pipeline online-store]
starter.py keys list | keys revoke <key id>
starter.py audit [--json]
starter.py catalog [WORDS ...] [--group employees|customer_communication|triggers] [--json]
starter.py pipeline list | versions ID | show ID [--version N] | diff ID N [M] | restore ID N | preview FILE
starter.py test PIPELINE SCENARIO [--directory FILE]   (a scenario on simulated time; exit 1 if it fails)
starter.py create-order T1 --pipeline online-store --test | skip-pause T1 | test-log T1
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from automation.catalog import GROUPS, Group, search
from automation.errors import describe
from automation.events import InvalidEvent, event_json_schema
from automation.files import FileError
from automation.limits import limits_markdown
from automation.lint import lint
from automation.order import CustomerInfo, NewOrder
from automation.pipeline import load_pipeline
from automation.rule_kinds import catalog_markdown
from cli import pipelines, test_mode
from cli.common import store_engine
from config import SCOPES, Settings

# The store and Temporal's client are imported by the commands that use them: a command
# that needs neither (validate, the catalogs) starts in a fraction of the time.
if TYPE_CHECKING:
    from order_client import OrderClient
    from store.tables_access import ApiKey


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"{what}: not valid JSON ({err})") from None


async def load_pipeline_file(path: str, stage_moves: dict[str, str] | None = None) -> None:
    from store.access import audit, local_actor
    from store.database import session
    from store.pipelines import StageMovesNeeded, VersionConflict, save_pipeline

    pipeline = load_pipeline(path)
    source = str(Path(path).resolve())
    engine = await store_engine()
    async with session(engine) as db:
        try:
            stored = await save_pipeline(db, pipeline, actor=local_actor(), source=f"file {source}",
                                         stage_moves=stage_moves)  # fmt: skip
        except (StageMovesNeeded, VersionConflict) as err:
            await engine.dispose()
            message = pipelines.refused(err) if isinstance(err, StageMovesNeeded) else str(err)
            raise SystemExit(message) from None
        if stored.new:
            detail = {"version": stored.version.number, "hash": stored.version.content_hash, "file": source}
            await audit(db, local_actor(), "pipeline_loaded", pipeline.id, detail)
        await db.commit()
    await engine.dispose()
    pipelines.print_stored(pipeline.id, stored)
    await pipelines.announce(stored)


async def load_directory(path: str) -> None:
    from store.directory import read_directory

    try:
        directory = read_directory(path)
    except FileError as err:
        raise SystemExit(str(err)) from None
    from store.database import session
    from store.directory import save_directory

    engine = await store_engine()
    async with session(engine) as db:
        await save_directory(db, directory)
        await db.commit()
    counts = (
        len(directory.employees),
        len(directory.customers),
        len(directory.lists),
        len(directory.document_templates),
    )
    print("{} employees, {} customers, {} lists and {} document templates loaded".format(*counts))


def _event(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "event_id": args.id or f"cli-{uuid.uuid4()}",
        "type": args.type,
        "data": _json_arg(args.data, "--data"),
        "occurred_at": datetime.now(UTC).isoformat(),
    }


async def _orders() -> OrderClient:
    from order_client import OrderClient, connect

    return OrderClient(await connect(), task_queue=Settings().task_queue)


async def create_order(args: argparse.Namespace) -> None:
    try:
        order = NewOrder(
            order_id=args.order_id,
            pipeline_id=args.pipeline,
            responsible_id=args.responsible,
            customer=CustomerInfo.model_validate(_json_arg(args.customer_json, "--customer-json"))
            if args.customer_json
            else None,
            fields=_json_arg(args.fields, "--fields"),
            test=args.test,
        )
    except ValidationError as err:
        raise SystemExit("invalid order:\n  " + "\n  ".join(describe(err))) from None
    handle = await (await _orders()).create_order(order)
    print(f"order {order.order_id} started: workflow {handle.id}")


async def send_event(args: argparse.Namespace) -> None:
    orders = await _orders()
    event = _event(args)
    if args.wait:
        outcome = await orders.apply_event(args.order_id, event)
        print(json.dumps(outcome.model_dump(mode="json"), indent=2))
    else:
        await orders.send_event(args.order_id, event)
        print(f"event {event['event_id']} sent to order {args.order_id}")


async def show(args: argparse.Namespace) -> None:
    view = await (await _orders()).state(args.order_id)
    if args.json:
        print(view.model_dump_json(indent=2))
        return
    version = f" (version {view.pipeline_version})" if view.pipeline_version is not None else ""
    print(f"order {view.order_id}  pipeline {view.pipeline_id}{version}  stage {view.stage} ({view.stage_title})")
    print(f"responsible {view.responsible_id or '-'}  customer {view.customer_id or '-'}")
    print("variables:" + ("" if view.variable_types else " none"))
    for name, kind in view.variable_types.items():
        print(f"  {name} ({kind}) = {json.dumps(view.variables.get(name))}")
    for rule in view.rules:
        print(f"  rule {rule.index + 1} {rule.title:<40} {rule.status}")
    print("timeline (latest):")
    for entry in view.timeline:
        print(f"  {entry.seq:>4} {entry.at:%Y-%m-%d %H:%M:%S} {entry.stage:<18} {entry.message}")


async def list_orders(args: argparse.Namespace) -> None:
    found = await (await _orders()).list_orders(
        stage=args.stage, pipeline_id=args.pipeline, outcome=args.outcome, test=args.test
    )
    if args.json:
        print(json.dumps([vars(o) for o in found], indent=2))
        return
    for order in found:
        columns = (order.order_id, order.stage or "-", order.pipeline_id or "-", order.responsible_id or "-")
        print("{:<24} {:<20} {:<20} {}".format(*columns))
    print(f"{len(found)} order(s)")


async def show_messages(args: argparse.Namespace) -> None:
    from store.database import session
    from store.messages import list_messages

    engine = await store_engine()
    async with session(engine) as db:
        rows = await list_messages(db, status=args.status, order_id=args.order)
    await engine.dispose()
    if args.json:
        print(json.dumps([row.model_dump(mode="json", exclude={"body"}) for row in rows], indent=2))
        return
    for row in rows:
        print(f"{row.run_key:<28} {row.channel:<6} {row.status:<12} {row.recipient:<28} {row.note}")
    print(f"{len(rows)} message(s)")


async def resend(args: argparse.Namespace) -> None:
    outcome = await (await _orders()).resend_message(args.run_key, args.by)
    print(f"message {outcome.run_key}: {outcome.message}")


async def show_webhook(pipeline_id: str) -> None:
    from store.database import session
    from store.tables import PipelineRecord

    settings = Settings()
    engine = await store_engine()
    async with session(engine) as db:
        record = await db.get(PipelineRecord, pipeline_id)
    if record is None:
        raise SystemExit(f"no pipeline {pipeline_id!r}; load it first")
    print(f"URL:    {settings.public_url}/webhooks/{pipeline_id}?target=ORDER_<order id>&code=<trigger code>")
    print(f"secret: {record.webhook_secret}")
    print("sign:   X-Webhook-Timestamp: <unix seconds>")
    print("        X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret,")
    print('                             "<timestamp>\\n<target>\\n<code>\\n<raw body>")>')


async def keys(args: argparse.Namespace) -> None:
    """``keys create|list|revoke``: the API's keys (the secret is printed once, at creation)."""
    from store.access import create_key, list_keys, local_actor, revoke_key
    from store.database import session

    engine = await store_engine()
    async with session(engine) as db:
        match args.action:
            case "create":
                try:
                    made = await create_key(db, args.name, args.scope, args.pipeline, local_actor())
                except ValueError as err:
                    raise SystemExit(f"invalid key: {err}") from None
                await db.commit()
                print(f"key {made.key.id} made: {_key_line(made.key)}")
                print(f"secret (shown only now; the store keeps a hash): {made.secret}")
                print(f"use it as:  Authorization: Bearer {made.secret}")
            case "list":
                found = await list_keys(db)
                if args.json:
                    print(json.dumps([k.model_dump(mode="json", exclude={"secret_hash"}) for k in found], indent=2))
                for key in [] if args.json else found:
                    print(f"{key.id}  {_key_line(key)}")
            case "revoke":
                try:
                    key = await revoke_key(db, args.key_id, local_actor())
                except KeyError:
                    raise SystemExit(f"no key {args.key_id!r} (`keys list` lists them)") from None
                await db.commit()
                print(f"key {key.id} revoked: {_key_line(key)}")
    await engine.dispose()


def _key_line(key: ApiKey) -> str:
    pipelines = ", ".join(key.pipelines) if key.pipelines else "all pipelines"
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} by {key.revoked_by}" if key.revoked_at else "active"
    made = f"made {key.created_at:%Y-%m-%d %H:%M} by {key.created_by}"
    return f"{key.name!r}  scopes {', '.join(key.scopes)}  {pipelines}  {made}  {state}"


async def show_audit(args: argparse.Namespace) -> None:
    from store.access import audit_log
    from store.database import session

    engine = await store_engine()
    async with session(engine) as db:
        records = await audit_log(db, args.action or ())
    await engine.dispose()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
        return
    for r in records:
        print(f"{r.at:%Y-%m-%d %H:%M:%S}  {r.actor:<20} {r.action:<16} {r.subject:<20} {json.dumps(r.detail)}")
    print(f"{len(records)} change(s)")


def show_findings(path: str) -> None:
    """The file checked, then linted: exits 1 if it is invalid or has a lint error."""
    pipeline = load_pipeline(path)
    findings = lint(pipeline)
    for finding in findings:
        print(f"{path}: {finding.line()}")
    errors = sum(finding.severity == "error" for finding in findings)
    warnings = len(findings) - errors
    print(f"{path}: pipeline {pipeline.id!r} is valid ({len(pipeline.stages)} stages); "
          f"{errors} lint error(s), {warnings} warning(s)")  # fmt: skip
    if errors:
        raise SystemExit(1)


def show_catalog(words: str, group: Group | None, as_json: bool) -> None:
    found = search(words, group)
    if as_json:
        print(json.dumps([entry.model_dump() for entry in found], indent=2))
        return
    for g in [g for g in GROUPS if any(entry.group == g for entry in found)]:
        print(f"{GROUPS[g]}:")
        for entry in (e for e in found if e.group == g):
            print(f"  {entry.title} (`{entry.name}`): {entry.description}")
            for p in entry.parameters:
                default = "required" if p.required else f"default {json.dumps(p.default)}"
                print(f"      {p.name}: {p.type}, {default}" + (f"; {p.description}" if p.description else ""))
    print(f"{len(found)} type(s)" + (f" with {words!r}" if words else ""))


README = Path(__file__).parent / "README.md"


def readme_section(readme: Path, name: str) -> str:
    """A generated section of the README, between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
    return readme.read_text().split(start, 1)[1].split(end, 1)[0]


def readme_catalog(readme: Path) -> str:
    """The rule catalog table as the README has it."""
    return readme_section(readme, "rule-catalog")


def write_section(readme: Path, name: str, content: str) -> None:
    start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
    before, rest = readme.read_text().split(start, 1)
    readme.write_text(before + start + content + end + rest.split(end, 1)[1])
    print(f"{readme}: {name} written ({len(content.splitlines()) - 2} rows)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="check a pipeline file, and lint it").add_argument("file")
    commands.add_parser("lint", help="what a valid pipeline file may still get wrong").add_argument("file")
    loading = commands.add_parser("load-pipeline", help="validate a pipeline file and store it as its next version")
    loading.add_argument("file")
    pipelines.add_stage_moves(loading)
    commands.add_parser(
        "load-directory", help="store employees, customers, lists and document templates from YAML"
    ).add_argument("file")
    create = commands.add_parser("create-order", help="start an order's workflow")
    create.add_argument("order_id")
    create.add_argument("--pipeline", required=True)
    create.add_argument("--responsible")
    create.add_argument("--customer-json", help='{"id": "c1", "first_name": "Ada", "emails": [...]}')
    create.add_argument("--fields", default="{}", help='order fields as JSON, e.g. {"total": 120}')
    create.add_argument("--test", action="store_true", help="a test order: messages recorded, never sent")
    send = commands.add_parser("send-event", help="send an event to an order")
    send.add_argument("order_id")
    send.add_argument("type", help="an event type, e.g. payment")
    send.add_argument("--data", default="{}", help="the event's data as JSON")
    send.add_argument("--id", help="event id (default: a new one); a repeated id is ignored")
    send.add_argument("--wait", action="store_true", help="wait for the outcome (an update, not a signal)")
    show_cmd = commands.add_parser("show", help="an order's stage, variables, rules and timeline")
    show_cmd.add_argument("order_id")
    show_cmd.add_argument("--json", action="store_true")
    commands.add_parser("event-schema", help="print the JSON Schema of events (docs/event.schema.json)")
    found = commands.add_parser("catalog", help="search the rule and trigger types by words: their parameters")
    found.add_argument("words", nargs="*", help="words of a name or description, e.g. sms customer")
    found.add_argument("--group", choices=list(GROUPS), help="one group only")
    found.add_argument("--json", action="store_true")
    catalog = commands.add_parser("rule-catalog", help="print the rule catalog table (as in the README)")
    catalog.add_argument("--write", action="store_true", help="put it in README.md, between its markers")
    limits_cmd = commands.add_parser("limits", help="print the table of limits (as in the README)")
    limits_cmd.add_argument("--write", action="store_true", help="put it in README.md, between its markers")
    hook = commands.add_parser("webhook", help="a pipeline's webhook URL and signing secret")
    hook.add_argument("pipeline_id")
    messages = commands.add_parser("messages", help="messages rules sent; --status unconfirmed for an operator")
    messages.add_argument("--status", help="pending, sent, unconfirmed, refused, failed...")
    messages.add_argument("--order", help="one order's")
    messages.add_argument("--json", action="store_true")
    resend_cmd = commands.add_parser("resend", help="resend an unconfirmed message (it may have gone out)")
    resend_cmd.add_argument("run_key", help="the message's rule run, as `messages` lists it")
    resend_cmd.add_argument("--by", default=getpass.getuser(), help="who decides it (default: you)")
    key_cmd = commands.add_parser("keys", help="the HTTP API's keys: create, list, revoke").add_subparsers(
        dest="action", required=True
    )
    made = key_cmd.add_parser("create", help="a new key; its secret is printed once")
    made.add_argument("name", help="what it is for, e.g. billing")
    made.add_argument("--scope", action="append", required=True, help=", ".join(SCOPES) + " (repeat for more)")
    made.add_argument("--pipeline", action="append", help="limit it to this pipeline's orders (repeat for more)")
    key_cmd.add_parser("list", help="every key, revoked ones too").add_argument("--json", action="store_true")
    key_cmd.add_parser("revoke", help="a key stops working at once").add_argument("key_id")
    audit_cmd = commands.add_parser("audit", help="who changed the set-up when: keys, pipeline loads")
    audit_cmd.add_argument("--action", action="append", help="key_created, key_revoked, pipeline_loaded")
    audit_cmd.add_argument("--json", action="store_true")
    pipelines.add_commands(commands)
    test_mode.add_commands(commands)
    listing = commands.add_parser("list", help="orders by stage or pipeline")
    listing.add_argument("--stage")
    listing.add_argument("--pipeline")
    listing.add_argument("--outcome", choices=["open", "success", "failure"])
    listing.add_argument("--test", action="store_true", help="test orders only (they are never listed otherwise)")
    listing.add_argument("--json", action="store_true")
    return top


async def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    match args.command:
        case "validate" | "lint":
            show_findings(args.file)
        case "load-pipeline":
            await load_pipeline_file(args.file, pipelines.stage_moves(args))
        case "load-directory":
            await load_directory(args.file)
        case "create-order":
            await create_order(args)
        case "send-event":
            await send_event(args)
        case "show":
            await show(args)
        case "list":
            await list_orders(args)
        case "catalog":
            show_catalog(" ".join(args.words), args.group, args.json)
        case "event-schema":
            print(json.dumps(event_json_schema(), indent=2))
        case "rule-catalog" if args.write:
            write_section(README, "rule-catalog", catalog_markdown())
        case "rule-catalog":
            print(catalog_markdown())
        case "limits" if args.write:
            write_section(README, "limits", limits_markdown())
        case "limits":
            print(limits_markdown())
        case "webhook":
            await show_webhook(args.pipeline_id)
        case "messages":
            await show_messages(args)
        case "resend":
            await resend(args)
        case "keys":
            await keys(args)
        case "audit":
            await show_audit(args)
        case "pipeline":
            await pipelines.run(args)
        case "test" | "skip-pause" | "test-log":
            await test_mode.run(args)


def run(argv: list[str]) -> int:
    """The command's exit status; what it prints is flushed before it returns."""
    try:
        try:
            asyncio.run(main(argv))
            status = 0
        except (FileError, InvalidEvent) as err:
            print(err, file=sys.stderr)
            status = 1
        except SystemExit as stop:
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
            status = stop.code if isinstance(stop.code, int) else 1 if stop.code else 0
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left (``starter.py show ... | head``): fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    sys.stderr.flush()
    return status


def console() -> None:
    """The ``orders`` command. Ends the process at once: the interpreter's teardown can abort
    while the threads of Temporal's core still run ("PyGILState_Release", exit status 134,
    sdk-python#300)."""
    os._exit(run(sys.argv[1:]))


if __name__ == "__main__":
    console()
