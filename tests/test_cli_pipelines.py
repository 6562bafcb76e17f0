"""``orders load-pipeline`` and ``orders pipeline ...``: versions as a store admin sees them
on the command line."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path

import pytest

from starter import run
from store.database import make_engine, session
from store.orders import save_order

ROOT = Path(__file__).resolve().parent.parent
NOT_ANNOUNCED = "  not announced (Temporal not reached): running orders take it within a minute"
"""What a command that stores a version says with no Temporal server to tell the running orders."""
SHOP = """id: shop
title: Shop
stages:
  - {id: new, title: New, rules: [{type: write_to_log, params: {message: hello}}]}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
"""


def _orders(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = run(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def shop_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return path


def test_loads_make_versions_that_are_listed_shown_diffed_and_restored(
    shop_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _orders(capsys, "load-pipeline", str(shop_file)) == (
        0, f"pipeline 'shop': version 1 stored (2 stages, file {shop_file})\n{NOT_ANNOUNCED}\n", "",
    )  # fmt: skip
    assert _orders(capsys, "load-pipeline", str(shop_file))[1] == (
        "pipeline 'shop' unchanged: version 1 has this content\n"
    )
    shop_file.write_text(SHOP.replace("message: hello", "message: hello again").replace("title: Paid", "title: Paid!"))
    assert _orders(capsys, "load-pipeline", str(shop_file))[1].splitlines() == [
        f"pipeline 'shop': version 2 stored (2 stages, file {shop_file})",
        "  ~ stage 'new', rule 1 (write_to_log): params.message",
        "  ~ stage 'paid': title",
        NOT_ANNOUNCED,
    ]

    status, out, _ = _orders(capsys, "pipeline", "versions", "shop")
    lines = out.splitlines()
    assert status == 0 and len(lines) == 2
    assert lines[1].split()[0] == "2" and f"user:{getpass.getuser()}" in lines[1] and "2 change(s)" in lines[1]
    assert _orders(capsys, "pipeline", "diff", "shop", "1")[1].splitlines() == [
        "pipeline 'shop', version 1 -> 2: 2 change(s)",
        "  ~ stage 'new', rule 1 (write_to_log): params.message",
        "  ~ stage 'paid': title",
    ]
    status, out, _ = _orders(capsys, "pipeline", "show", "shop", "--version", "1")
    assert status == 0 and "# pipeline 'shop', version 1 " in out and "message: hello\n" in out

    assert _orders(capsys, "pipeline", "restore", "shop", "1")[1].splitlines() == [
        "pipeline 'shop': version 3 stored (2 stages, version 1 made current again)",
        "  ~ stage 'new', rule 1 (write_to_log): params.message",
        "  ~ stage 'paid': title",
        NOT_ANNOUNCED,
    ]
    listed = json.loads(_orders(capsys, "pipeline", "list", "--json")[1])
    assert [(p["id"], p["version"]) for p in listed] == [("shop", 3)]
    audited = json.loads(_orders(capsys, "audit", "--json")[1])
    assert [(r["action"], r["detail"]["version"]) for r in audited] == [
        ("pipeline_loaded", 1), ("pipeline_loaded", 2), ("pipeline_restored", 3),
    ]  # fmt: skip


def test_an_unknown_pipeline_or_version_is_named(shop_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _orders(capsys, "load-pipeline", str(shop_file))
    assert _orders(capsys, "pipeline", "show", "shop", "--version", "5") == (
        1, "", "pipeline 'shop' has versions 1 to 1, not 5\n",
    )  # fmt: skip
    assert _orders(capsys, "pipeline", "versions", "nope") == (1, "", "no pipeline 'nope'\n")
    assert _orders(capsys, "pipeline", "restore", "nope", "1") == (1, "", "no pipeline 'nope'\n")


def _an_order_in(data_dir: Path, stage: str) -> None:
    async def write() -> None:
        engine = make_engine(f"sqlite:///{data_dir / 'orders.db'}")
        async with session(engine) as db:
            await save_order(db, "O-1", pipeline_id="shop", stage=stage, customer_id=None, responsible_id=None,
                             fields={}, variables={})  # fmt: skip
            await db.commit()
        await engine.dispose()

    asyncio.run(write())


def test_a_preview_says_what_a_file_would_do_and_a_removed_stage_with_orders_needs_a_move(
    shop_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _orders(capsys, "load-pipeline", str(shop_file))
    _an_order_in(tmp_path, "paid")
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(SHOP.replace("id: paid, title: Paid", "id: settled, title: Settled"))
    removed = "stage 'paid' is removed but 1 order(s) are in it: say where they go (a stage move paid=STAGE)"
    status, out, _ = _orders(capsys, "pipeline", "preview", str(renamed))
    assert status == 1 and out.splitlines() == [
        "pipeline 'shop': version 1 -> 2, 2 change(s); orders by stage: paid 1",
        "  + stage 'settled': 'Settled', 1 trigger(s), 0 rule(s)",
        "      each of the 1 running orders takes it as it next enters a stage",
        "  - stage 'paid': 'Paid', 1 trigger(s), 0 rule(s)",
        "      the 1 in it now finish it under their version; an order that would enter it stays on its version for it",
        f"  refused: {removed}",
    ]
    assert _orders(capsys, "load-pipeline", str(renamed)) == (1, "", f"refused, nothing stored:\n  {removed}\n")
    assert _orders(capsys, "load-pipeline", str(renamed), "--move-orders", "paid") == (
        1, "", "--move-orders 'paid': write it OLD=NEW, e.g. review=paid\n",
    )  # fmt: skip
    status, out, _ = _orders(capsys, "pipeline", "preview", str(renamed), "--move-orders", "paid=settled")
    assert status == 0 and out.splitlines()[-1].endswith("an order that would enter it goes to 'settled'")
    status, out, _ = _orders(capsys, "load-pipeline", str(renamed), "--move-orders", "paid=settled")
    assert status == 0 and out.startswith("pipeline 'shop': version 2 stored")


def test_rules_and_triggers_are_copied_and_moved_item_by_item_each_change_a_new_version(
    shop_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _orders(capsys, "load-pipeline", str(shop_file))
    other = tmp_path / "other.yaml"
    other.write_text("id: other\ntitle: Other\nstages:\n  - {id: start, title: Start}\n"
                     "  - {id: done, title: Done, final: success}\n")  # fmt: skip
    _orders(capsys, "load-pipeline", str(other))
    status, out, _ = _orders(capsys, "pipeline", "copy", "shop", "--rule", "new:1", "--rule", "new:4",
                             "--to", "other:start")  # fmt: skip
    assert status == 1 and out.splitlines() == [
        "copy: rule 1 of stage 'new'",
        "not copied: rule 4 of stage 'new': stage 'new' has 1 rule(s)",
        "pipeline 'other': version 2 stored (2 stages, 1 item(s) copied from 'shop' to stage 'start')",
        "  + stage 'start', rule 1 (write_to_log)",
        NOT_ANNOUNCED,
    ]
    status, out, _ = _orders(capsys, "pipeline", "move", "shop", "--trigger", "paid:1", "--to", "new")
    moved = ["  + stage 'new', trigger 1 (payment)", "  - stage 'paid', trigger 1 (payment)", NOT_ANNOUNCED]
    assert status == 0 and out.splitlines()[-3:] == moved
    assert _orders(capsys, "pipeline", "copy", "shop", "--rule", "new", "--to", "paid") == (
        1, "", "--rule 'new': write it STAGE:N, e.g. paid:2 (N = 1 for the first)\n",
    )  # fmt: skip
    audited = json.loads(_orders(capsys, "audit", "--json", "--action", "rules_copied", "--action", "rules_moved")[1])
    assert [(r["action"], r["subject"], r["detail"]["version"]) for r in audited] == [
        ("rules_copied", "other", 2), ("rules_moved", "shop", 2),
    ]  # fmt: skip


def test_constants_are_set_from_the_command_line_as_their_type(
    shop_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop_file.write_text(SHOP.replace("stages:", "constants: {shop_name: Acme, free_over: 50}\nstages:"))
    _orders(capsys, "load-pipeline", str(shop_file))
    assert _orders(capsys, "pipeline", "set-constant", "shop", "free_over", "75.5")[0] == 0
    assert _orders(capsys, "pipeline", "set-constant", "shop", "free_over", "lots") == (
        1, "", "constant 'free_over': it is a number constant: 'lots' is not a number\n",
    )  # fmt: skip
    status, out, _ = _orders(capsys, "pipeline", "constants", "shop")
    lines = out.splitlines()
    assert status == 0 and lines[0] == "shop_name (string) = 'Acme'"
    assert lines[1].startswith(f"free_over (number) = 75.5  (set by user:{getpass.getuser()} at ")
    assert lines[1].endswith("; the file says 50)")
    assert _orders(capsys, "pipeline", "unset-constant", "shop", "free_over")[1] == "free_over (number) = 50\n"
    assert _orders(capsys, "pipeline", "unset-constant", "shop", "free_over") == (
        1, "", "constant 'free_over' of 'shop' was not set: it has the file's value\n",
    )  # fmt: skip
