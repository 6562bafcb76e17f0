"""Versions of a pipeline: the hash that names its content, and what changed from one
version to the next (stages, rules and triggers added, removed, changed or moved), in the
words an admin reads. Pure: the store keeps the versions (``store/versions.py``).

Stages are matched by id. Rules and triggers have no ids: within a stage they are matched
as a text diff matches lines (``difflib``), so that a rule inserted at the top shows as
one rule added, not as every rule below it changed."""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel

from automation.pipeline import Pipeline

Action = Literal["added", "removed", "changed", "moved"]
_SIGN: dict[Action, str] = {"added": "+", "removed": "-", "changed": "~", "moved": ">"}
MOST_FIELDS = 6
"""Changed fields named in one change; the rest are counted."""


def content_hash(pipeline: Pipeline) -> str:
    """SHA-256 of the pipeline's canonical JSON: two loads of the same content have one hash."""
    return hashlib.sha256(_canonical(pipeline.model_dump(mode="json")).encode()).hexdigest()


class Change(BaseModel):
    """One difference between two versions of a pipeline."""

    action: Action
    place: str
    """Where: ``pipeline``, ``stage 'paid'``, ``stage 'paid', rule 2 (send_email)``..."""
    detail: str = ""
    """What changed in it (the fields), or where it moved."""

    def line(self) -> str:
        return f"{_SIGN[self.action]} {self.place}" + (f": {self.detail}" if self.detail else "")


def changes(before: Pipeline | None, after: Pipeline) -> list[Change]:
    """What ``after`` changes in ``before`` (None: the first version, all of it added)."""
    old = before.model_dump(mode="json") if before is not None else {"stages": []}
    new = after.model_dump(mode="json")
    found: list[Change] = []
    top = _fields(_without(old, "stages"), _without(new, "stages")) if before is not None else []
    if top:
        found.append(Change(action="changed", place="pipeline", detail=_named(top)))
    old_stages = {stage["id"]: stage for stage in old["stages"]}
    new_ids = [stage["id"] for stage in new["stages"]]
    for stage in new["stages"]:
        place = f"stage {stage['id']!r}"
        if stage["id"] not in old_stages:
            found.append(Change(action="added", place=place, detail=_stage_contents(stage)))
            continue
        found.extend(_stage_changes(place, old_stages[stage["id"]], stage))
    found.extend(_moves([s["id"] for s in old["stages"] if s["id"] in new_ids], new_ids))
    for stage_id, stage in old_stages.items():
        if stage_id not in new_ids:
            found.append(Change(action="removed", place=f"stage {stage_id!r}", detail=_stage_contents(stage)))
    return found


def _stage_changes(place: str, was: dict[str, Any], now: dict[str, Any]) -> list[Change]:
    fields = _fields(_without(was, "rules", "triggers"), _without(now, "rules", "triggers"))
    found = [Change(action="changed", place=place, detail=_named(fields))] if fields else []
    for part in ("triggers", "rules"):
        found.extend(_item_changes(place, part, was[part], now[part]))
    return found


def _item_changes(place: str, part: str, was: list[Any], now: list[Any]) -> list[Change]:
    """Rules or triggers of one stage, matched as lines of a text diff."""
    matcher = difflib.SequenceMatcher(a=[_canonical(x) for x in was], b=[_canonical(x) for x in now], autojunk=False)
    found: list[Change] = []
    singular = part[:-1]
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(a1 - a0, b1 - b0) if op == "replace" else 0
        for k in range(paired):  # the same place, other content: changed
            old_item, new_item = was[a0 + k], now[b0 + k]
            where = f"{place}, {singular} {b0 + k + 1} ({_item_label(new_item)})"
            found.append(Change(action="changed", place=where, detail=_named(_fields(old_item, new_item))))
        for k in range(b0 + paired, b1):
            found.append(Change(action="added", place=f"{place}, {singular} {k + 1} ({_item_label(now[k])})"))
        for k in range(a0 + paired, a1):
            found.append(Change(action="removed", place=f"{place}, {singular} {k + 1} ({_item_label(was[k])})"))
    return found


def _moves(old_order: list[str], new_order: list[str]) -> list[Change]:
    """Stages kept but put elsewhere in the order of stages."""
    kept = [stage_id for stage_id in new_order if stage_id in old_order]
    matcher = difflib.SequenceMatcher(a=old_order, b=kept, autojunk=False)
    in_place = {kept[j] for block in matcher.get_matching_blocks() for j in range(block.b, block.b + block.size)}
    return [
        Change(action="moved", place=f"stage {stage_id!r}", detail=f"now position {new_order.index(stage_id) + 1}")
        for stage_id in kept
        if stage_id not in in_place
    ]


def _fields(was: Any, now: Any, prefix: str = "") -> list[str]:
    """The dotted names of what differs between two JSON values."""
    if isinstance(was, dict) and isinstance(now, dict):
        names = sorted(set(was) | set(now))
        return [path for name in names for path in _fields(was.get(name), now.get(name), f"{prefix}{name}.")]
    return [] if was == now else [prefix.rstrip(".") or "value"]


def _named(fields: list[str]) -> str:
    shown = ", ".join(fields[:MOST_FIELDS])
    return shown + (f" and {len(fields) - MOST_FIELDS} more" if len(fields) > MOST_FIELDS else "")


def _stage_contents(stage: dict[str, Any]) -> str:
    return f"{stage['title']!r}, {len(stage['triggers'])} trigger(s), {len(stage['rules'])} rule(s)"


def _item_label(item: dict[str, Any]) -> str:
    """A rule's or a trigger's type, and its title if it has one."""
    return f"{item['type']}: {item['title']}" if item.get("title") else str(item["type"])


def _without(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name not in names}


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
