"""The command line as scripts and people use it: its exit status, a pipe closed early,
and the commands the main job's banner suggests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings
from run_local import banner, uv_command

ROOT = Path(__file__).resolve().parent.parent


def _starter(*args: str, stdout: int | None = subprocess.PIPE, prelude: str = "") -> subprocess.CompletedProcess[str]:
    argv = ["starter.py", *args]
    code = f"{prelude}import runpy, sys; sys.argv = {argv!r}; runpy.run_path('starter.py', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60
    )


def test_output_into_a_pipe_the_reader_closed_is_no_traceback() -> None:
    reader, writer = os.pipe()
    os.close(reader)  # like `| head` that has read what it wanted
    try:
        done = _starter("event-schema", stdout=writer)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_cli_ends_without_the_interpreter_teardown_that_can_abort() -> None:
    """The teardown is where Temporal's threads made it abort (exit 134): it is skipped."""
    teardown = "import atexit, sys; atexit.register(lambda: print('teardown ran', file=sys.stderr)); "
    done = _starter("rule-catalog", prelude=teardown)
    assert done.returncode == 0 and done.stdout.startswith("| rule |")
    assert "teardown ran" not in done.stderr


def test_a_refused_file_exits_1_saying_why(tmp_path: Path) -> None:
    done = _starter("validate", str(tmp_path / "nope.yaml"))
    assert (done.returncode, done.stderr) == (
        1,
        f"{tmp_path / 'nope.yaml'}: invalid pipeline\n  cannot be read: No such file or directory\n",
    )


def test_the_banner_calls_uv_the_way_that_works_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert uv_command() == ".tools/bin/uv"
    text = banner(Settings(), "demo-1", "data/mail", None, "http://localhost:8233", Path("data/api_key"))
    assert "  .tools/bin/uv run python starter.py show demo-1" in text.splitlines()


def test_the_orders_command_is_installed_and_runs_from_anywhere(tmp_path: Path) -> None:
    orders = Path(sys.executable).parent / "orders"  # the console script of pyproject.toml
    done = subprocess.run(
        [str(orders), "validate", str(ROOT / "examples" / "online_store.yaml")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert "online-store" in done.stdout
