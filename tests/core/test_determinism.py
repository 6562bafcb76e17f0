"""The order's workflow runs outside Temporal's sandbox (``workflows/order.py`` says why), so
what the sandbox would catch is caught here: no module the workflows load reads the clock,
randomness, the environment or files, or reaches the network, processes or threads. (The
replay of ``tests/histories/`` checks the other half: that they decide as they did.)"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.core.test_layers import _graph, _project_modules

MODULES = {"time", "random", "secrets", "os", "socket", "subprocess", "threading", "multiprocessing",
           "sqlite3", "httpx", "requests", "urllib.request", "uuid"}  # fmt: skip
"""Not imported by workflow code at all (``uuid``: Temporal's ``workflow.uuid4`` is the deterministic one)."""
CALLS = {"datetime.now", "datetime.utcnow", "datetime.today", "date.today", "open", "input", "breakpoint"}
READS_FILES_FOR_THE_CLI = {"automation.files": {"open"}}
"""Pipeline and directory files are read by the CLI and the worker's loader, never by a workflow."""


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)) is not None:
        return f"{base}.{node.attr}"
    return None


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in MODULES)


def _forbidden_call(name: str) -> bool:
    return name in CALLS or any(name.endswith(f".{call}") for call in CALLS if "." in call)


def violations(source: str) -> list[str]:
    """What in ``source`` would make workflow code nondeterministic or do I/O."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _forbidden(node.module):
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call) and _forbidden_call(name := _dotted(node.func) or ""):
            found.append(f"{name}() on line {node.lineno}")
    return found


def _workflow_modules() -> set[str]:
    """The workflow modules and every project module they import, at any depth."""
    edges, seen = _graph("module"), set()
    todo = [name for name in _project_modules() if name.startswith("workflows")]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += edges.get(name, set())
    return seen


def test_the_scan_finds_the_clock_randomness_and_io() -> None:
    assert violations("from datetime import datetime\nx = datetime.now()") == ["datetime.now() on line 2"]
    assert violations("import datetime\nx = datetime.datetime.utcnow()") == ["datetime.datetime.utcnow() on line 2"]
    assert violations("import random, time") == ["import random", "import time"]
    assert violations("from os import environ") == ["from os import ..."]
    assert violations("from urllib.parse import quote") == []
    assert violations("with open('f') as f: pass") == ["open() on line 1"]
    assert violations("from temporalio import workflow\nx = workflow.now()") == []


def test_no_module_the_workflows_load_is_nondeterministic() -> None:
    modules = _project_modules()
    loaded = _workflow_modules()
    assert {"workflows.order", "workflows.stage_runner", "automation.state", "automation.matching"} <= loaded
    found = {}
    for name in sorted(loaded):
        allowed = READS_FILES_FOR_THE_CLI.get(name, set())
        problems = [p for p in violations(Path(modules[name]).read_text()) if p.split("(")[0] not in allowed]
        if problems:
            found[name] = problems
    assert found == {}
