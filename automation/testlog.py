"""A test order's test log: for each rule, its stage, when it was ready and due, its delay,
its condition with the values it compared, when it started, what it did (or why it failed),
the variables and constants it read as it started, and the variables and order fields it
changed, before and after; for each event, what every trigger of its type made of it.

The order's workflow records the pieces in its timeline entries (``data["test"]``, only
for a test order, each value cut short); ``lines`` reads them back as text. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from automation.pipeline import RuleSpec
from automation.references import reads
from automation.state import TimelineEntry

MOST_CHARS = 120
"""A value in a test log, as JSON, at most."""
MOST_NAMES = 40
"""Values one rule's notes list, at most."""


LINE_CHARS = 300
"""A text in a test order's notes (a condition, a trigger's verdict), at most."""
MOST_LINES = 40
"""Items of a list in a test order's notes (clauses, verdicts), at most."""


def bounded(notes: dict[str, Any]) -> dict[str, Any]:
    """A test order's notes with each text and list cut short: however big the pipeline, an
    entry stays a few KiB."""
    return {key: _bounded(value) for key, value in list(notes.items())[:MOST_NAMES]}


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= LINE_CHARS else value[: LINE_CHARS - 1] + "…"
    if isinstance(value, list):
        return [_bounded(item) for item in value[:MOST_LINES]]
    if isinstance(value, dict):
        return bounded(value)
    return value


def shown(value: Any) -> Any:
    """``value``, or its JSON cut short (a text ending in …) when that is too long."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return value if len(text) <= MOST_CHARS else text[: MOST_CHARS - 1] + "…"


def read_values(rule: RuleSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The variables and constants a rule reads (its templates, its condition), as it starts."""
    return {f"{root}.{name}": shown((values.get(root) or {}).get(name))
            for root, name in sorted(reads(rule.params, rule.condition))[:MOST_NAMES]}  # fmt: skip


def changes_of(
    variables: Mapping[str, Any],
    new_variables: Mapping[str, Any],
    fields: Mapping[str, Any],
    responsible_id: str | None,
    order_changes: Mapping[str, Any],
) -> dict[str, list[Any]]:
    """What a rule's result changes in the order: ``variables.x`` or ``order.y`` -> [before, after]."""
    found = {f"variables.{name}": [shown(variables.get(name)), shown(value)]
             for name, value in new_variables.items() if variables.get(name) != value}  # fmt: skip
    for name, value in order_changes.items():
        before = responsible_id if name == "responsible_id" else fields.get(name)
        if before != value:
            found[f"order.{name}"] = [shown(before), shown(value)]
    return dict(list(found.items())[:MOST_NAMES])


def lines(entries: Iterable[TimelineEntry]) -> list[str]:
    """The test log of a test order's timeline, one line per entry, details indented."""
    out: list[str] = []
    for entry in entries:
        out.append(f"{entry.at:%Y-%m-%d %H:%M:%S} [{entry.stage}] {entry.message}")
        test = entry.data.get("test")
        if isinstance(test, dict):
            out.extend("    " + line for line in _details(test))
    return out


def _details(test: Mapping[str, Any]) -> list[str]:
    found = [f"trigger {verdict}" for verdict in test.get("triggers", [])]
    timing = []
    for what, key in (("ready", "ready_at"), ("delay", "delay"), ("due", "due_at"), ("started", "started_at")):
        if test.get(key):
            timing.append(f"{what} {_when(test[key]) if key.endswith('_at') else test[key]}")
    if timing:
        found.append("; ".join(timing))
    condition = test.get("condition")
    if isinstance(condition, dict):
        verdict = "met" if condition.get("holds") else "not met"
        found.append(f"condition {condition.get('text')}: {verdict}")
        found.extend("  " + clause for clause in condition.get("compared", []))
    if test.get("read"):
        found.append("read: " + ", ".join(f"{name} = {_json(value)}" for name, value in test["read"].items()))
    for name, (before, after) in dict(test.get("changed") or {}).items():
        found.append(f"changed: {name}: {_json(before)} -> {_json(after)}")
    return found


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


def _json(value: Any) -> str:
    return value if isinstance(value, str) and value.endswith("…") else json.dumps(value, default=str)
