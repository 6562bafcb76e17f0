"""Pipeline and directory files from a careless or hostile hand: each malformed one ends in
the one-line-per-problem message, never a traceback, in bounded time and memory; and
whatever ``validate`` accepts, ``load-pipeline`` stores and reads back."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from automation import limits
from automation.files import FileError, parse_yaml
from automation.pipeline import load_pipeline, parse_pipeline
from store.database import session
from store.directory import read_directory
from store.pipelines import get_pipeline, save_pipeline

ROOT = Path(__file__).resolve().parent.parent
TAIL = "  - {id: done, title: Done, final: success}\n"


def _pipeline(body: str = "", constants: str = "{}") -> str:
    return f"id: shop\ntitle: Shop\nconstants: {constants}\nstages:\n  - id: new\n    title: New\n{body}{TAIL}"


def _laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + f"\nid: *a{levels - 1}\n"


MALFORMED: dict[str, tuple[bytes, str]] = {
    # name: (the file, the start of its one problem line)
    "not UTF-8": (b"id: shop\ntitle: \xff\xfe\n", "not UTF-8 text: byte 0xff at offset 16"),
    "over 256 KiB": (b"# " + b"x" * limits.FILE_BYTES + b"\n", "the file is over 262,144 bytes"),
    "nested 10,000 flow levels": (b"id: " + b"[" * 10_000 + b"]" * 10_000, "line 1, column"),
    "nested 200 block levels": (
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)).encode(),
        "line 32, column 63: nests more than 32 levels",
    ),
    "a 5,000-digit integer": (_pipeline(constants="{n: " + "7" * 5000 + "}").encode(), "line 3, column 16: a number"),
    "a delay of 99999999999d": (
        _pipeline("    rules: [{type: wait, params: {timeout: {after: 99999999999d}}}]\n").encode(),
        "stages[0].rules[0].params.timeout.after: at most 3,650 days",
    ),
    "an alias inside its own anchor": (
        b"id: shop\nconstants: &c {self: *c}\n",
        "line 2, column 22: alias *c is inside its own anchor",
    ),
    "billion laughs, 9 levels of 9": (_laughs(9, 9).encode(), "line 6, column 5: more than 50,000 values"),
    "billion laughs, 30 levels of 2": (_laughs(30, 2).encode(), "line 16, column 6: more than 50,000 values"),
    "101 aliases": (
        b"a: &a x\nb: [" + b", ".join([b"*a"] * 101) + b"]\n",
        "line 2, column 405: more than 100 aliases",
    ),
    "an infinite number": (_pipeline(constants="{n: .inf}").encode(), "line 3, column 16: numbers must be finite"),
    "year zero": (
        _pipeline("    rules: [{type: wait, delay: {at: 0000-01-01}, params: {}}]\n").encode(),
        "line 7, column 38: not a valid date: year 0 is out of range",
    ),
    "a Python object tag": (
        b"id: !!python/object:os.system ls\n",
        "line 1, column 5: could not determine a constructor",
    ),
    "a tab in the indentation": (b"id: shop\nstages:\n\t- id: new\n", "line 3, column 1: found character '\\t'"),
    "a list, not a mapping": (b"- id: shop\n", "the file must hold a mapping"),
    "an empty file": (b"", "the file must hold a mapping"),
    "a template nested 900 deep": (
        _pipeline(
            "    rules: [{type: write_to_log, params: {message: '{{ " + "(" * 900 + "1" + ")" * 900 + " }}'}}]\n"
        ).encode(),
        "stages[0].rules[0].params.message: template nests too deeply",
    ),
}


@pytest.mark.parametrize("name", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_pipeline_file_is_one_line_per_problem(name: str, tmp_path: Path) -> None:
    content, expected = MALFORMED[name]
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(content)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(FileError) as refused:
        load_pipeline(path)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(refused.value.problems) >= 1 and refused.value.problems[0].startswith(expected), refused.value.problems
    assert str(refused.value).startswith(f"{path}: invalid pipeline\n  ")
    # Bounded: nothing like the 2.4 GB and the minutes a billion laughs used to take.
    assert (seconds, peak) < (10, 200 * 1024 * 1024), (seconds, peak)


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(FileError) as refused:
        load_pipeline(tmp_path / "nope.yaml")
    assert refused.value.problems == ["cannot be read: No such file or directory"]


@pytest.mark.parametrize("name", ["not UTF-8", "billion laughs, 9 levels of 9", "an alias inside its own anchor"])
def test_the_cli_prints_the_problem_and_no_traceback(name: str, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(MALFORMED[name][0])
    done = subprocess.run(
        [sys.executable, "starter.py", "validate", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    first, problem = done.stderr.splitlines()[:2]
    assert (first, problem.startswith(f"  {MALFORMED[name][1]}")) == (f"{path}: invalid pipeline", True)


def test_a_directory_file_is_read_with_the_same_limits(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(f"employees:\n  - {{id: {'e' * 3000}, name: Sam}}\n" + _laughs(9, 9).replace("id:", "x:"))
    with pytest.raises(FileError) as refused:
        read_directory(path)
    assert refused.value.problems[0].startswith("line ")  # the laughs are refused first, as YAML
    path.write_text(f"employees:\n  - {{id: {'e' * 3000}, name: Sam}}\n")
    with pytest.raises(FileError) as refused:
        read_directory(path)
    assert refused.value.problems == ["employees[0].id: at most 100 characters"]


ACCEPTED = {
    "anchors shared by two rules": """
id: shop
title: Shop
stages:
  - id: new
    title: New
    rules:
      - &greet {type: write_to_log, params: {message: "Hello {{ order.id }}"}}
      - *greet
  - {id: done, title: Done, final: success}
""",
    "texts in many scripts, and long constants": _pipeline(
        constants="{greeting: 'Grüße, 你好, こんにちは 🎉', long: '"
        + "x" * limits.CONSTANT_CHARS
        + "', rate: 0.2, enabled: true}"
    ),
    "a delay at a moment and at a time of day": _pipeline(
        "    rules:\n      - {type: write_to_log, delay: {at: 2027-01-01T09:00:00+01:00}, params: {message: a}}\n"
        "      - {type: write_to_log, delay: {time_of_day: '09:00'}, params: {message: b}}\n"
    ),
}


@pytest.mark.parametrize("name", ACCEPTED, ids=list(ACCEPTED))
async def test_what_validate_accepts_load_pipeline_stores_and_reads_back(name: str, any_engine: AsyncEngine) -> None:
    pipeline = parse_pipeline(ACCEPTED[name])
    async with session(any_engine) as db:
        await save_pipeline(db, pipeline)
        await db.commit()
    async with session(any_engine) as db:
        assert await get_pipeline(db, pipeline.id) == pipeline


def _nested(levels: int) -> str:
    """A mapping whose innermost value is ``levels`` deep (the file's mapping is the first)."""
    return "x: " + "{a: " * (levels - 2) + "1" + "}" * (levels - 2)


def _aliases(count: int) -> str:
    return "a: &a x\nb: [" + ", ".join(["*a"] * count) + "]\n"


def _values(count: int) -> str:
    return "a: [" + ", ".join(["1"] * (count - 3)) + "]\n"  # and the file's mapping, its key, the list


@pytest.mark.parametrize(
    ("build", "limit", "problem"),
    [
        (_nested, limits.YAML_DEPTH, "nests more than 32 levels"),
        (_aliases, limits.YAML_ALIASES, "more than 100 aliases"),
        (_values, limits.YAML_NODES, "more than 50,000 values, with its aliases expanded"),
        (lambda n: f"n: {'9' * n}\n", limits.NUMBER_DIGITS, "a number of more than 18 digits"),
    ],
    ids=["YAML depth: 32", "YAML aliases: 100", "YAML values: 50,000", "number: 18 digits"],
)
def test_yaml_limits(build: Any, limit: int, problem: str) -> None:
    parse_yaml(build(limit), "f.yaml", "invalid file")
    with pytest.raises(FileError) as refused:
        parse_yaml(build(limit + 1), "f.yaml", "invalid file")
    assert refused.value.problems[0].endswith(problem)
