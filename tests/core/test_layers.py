"""The layers stay apart: the deterministic core and the workflows load no side effects,
and no package imports another that imports it back."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ["automation", "workflows"]
SIDE_EFFECTS = {"activities", "store", "providers", "api", "config", "tracking", "order_client", "worker"}


def _project_modules() -> dict[str, Path]:
    """Every module of the project (not its tests), by dotted name."""
    found = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("tests", ".venv", ".tools") or "migrations" in relative.parts:
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """What the module imports, at any level (under TYPE_CHECKING too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _graph(group: str) -> dict[str, set[str]]:
    """Import edges between the project's packages (``group="package"``) or modules."""
    modules = _project_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        source = name.split(".")[0] if group == "package" else name
        targets = {imported for imported in _imports(path) if imported in modules}
        if group == "package":
            targets = {target.split(".")[0] for target in targets}
        edges.setdefault(source, set()).update(targets - {source})
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(edges.get(node, ())):
            if (cycle := visit(target)) is not None:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(edges):
        if (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_core_and_the_workflows_load_no_side_effects() -> None:
    core = [name for name in _project_modules() if name.split(".")[0] in CORE]
    script = f"import sys, json\nimport {', '.join(core)}\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout)  # fmt: skip
    project = [name for name in loaded if name.split(".")[0] in {*CORE, *SIDE_EFFECTS}]
    assert [name for name in project if name.split(".")[0] in SIDE_EFFECTS] == []
    print(f"the core and the workflows: {len(core)} modules; loaded {len(project)} project modules, "
          f"{len(loaded)} in all")  # fmt: skip


def test_no_package_imports_one_that_imports_it_back() -> None:
    assert _cycle(_graph("package")) is None


def test_no_module_of_the_workflows_imports_one_that_imports_it_back() -> None:
    edges = _graph("module")
    assert _cycle({name: targets for name, targets in edges.items() if name.startswith("workflows")}) is None
