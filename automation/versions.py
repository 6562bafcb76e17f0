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
Part = Literal["pipeline", "stage", "trigger", "rule"]
_SIGN: dict[Action, str] = {"added": "+", "removed": "-", "changed": "~", "moved": ">"}
MOST_FIELDS = 6
"""Changed fields named in one change; the rest are counted."""


def content_hash(pipeline: Pipeline) -> str:
    """SHA-256 of the pipeline's canonical JSON: two loads of the same content have one hash."""
    return hashlib.sha256(_canonical(pipeline.model_dump(mode="json")).encode()).hexdigest()


class Change(BaseModel):
    """One difference between two versions of a pipeline."""

    action: Action
    part: Part = "stage"
    stage: str | None = None
    """The stage it is in (None: the pipeline's own fields)."""
    place: str
    """Where, in words: ``pipeline``, ``stage 'paid'``, ``stage 'paid', rule 2 (send_email)``..."""
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
        found.append(Change(action="changed", part="pipeline", place="pipeline", detail=_named(top)))
    old_stages = {stage["id"]: stage for stage in old["stages"]}
    new_ids = [stage["id"] for stage in new["stages"]]
    for stage in new["stages"]:
        place = f"stage {stage['id']!r}"
        if stage["id"] not in old_stages:
            found.append(Change(action="added", stage=stage["id"], place=place, detail=_stage_contents(stage)))
            continue
        found.extend(_stage_changes(stage["id"], old_stages[stage["id"]], stage))
    found.extend(_moves([s["id"] for s in old["stages"] if s["id"] in new_ids], new_ids))
    for stage_id, stage in old_stages.items():
        if stage_id not in new_ids:
            found.append(Change(action="removed", stage=stage_id, place=f"stage {stage_id!r}",
                                detail=_stage_contents(stage)))  # fmt: skip
    return found


def _stage_changes(stage: str, was: dict[str, Any], now: dict[str, Any]) -> list[Change]:
    fields = _fields(_without(was, "rules", "triggers"), _without(now, "rules", "triggers"))
    found = [Change(action="changed", stage=stage, place=f"stage {stage!r}", detail=_named(fields))] if fields else []
    found.extend(_item_changes(stage, "trigger", was["triggers"], now["triggers"]))
    found.extend(_item_changes(stage, "rule", was["rules"], now["rules"]))
    return found


def _item_changes(stage: str, part: Literal["trigger", "rule"], was: list[Any], now: list[Any]) -> list[Change]:
    """Rules or triggers of one stage, matched as lines of a text diff."""
    matcher = difflib.SequenceMatcher(a=[_canonical(x) for x in was], b=[_canonical(x) for x in now], autojunk=False)
    found: list[Change] = []

    def change(action: Action, number: int, item: dict[str, Any], detail: str = "") -> Change:
        place = f"stage {stage!r}, {part} {number} ({_item_label(item)})"
        return Change(action=action, part=part, stage=stage, place=place, detail=detail)

    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(a1 - a0, b1 - b0) if op == "replace" else 0
        for k in range(paired):  # the same place, other content: changed
            old_item, new_item = was[a0 + k], now[b0 + k]
            found.append(change("changed", b0 + k + 1, new_item, _named(_fields(old_item, new_item))))
        found.extend(change("added", k + 1, now[k]) for k in range(b0 + paired, b1))
        found.extend(change("removed", k + 1, was[k]) for k in range(a0 + paired, a1))
    return found


def _moves(old_order: list[str], new_order: list[str]) -> list[Change]:
    """Stages kept but put elsewhere in the order of stages."""
    kept = [stage_id for stage_id in new_order if stage_id in old_order]
    matcher = difflib.SequenceMatcher(a=old_order, b=kept, autojunk=False)
    in_place = {kept[j] for block in matcher.get_matching_blocks() for j in range(block.b, block.b + block.size)}
    return [
        Change(action="moved", stage=stage_id, place=f"stage {stage_id!r}",
               detail=f"now position {new_order.index(stage_id) + 1}")
        for stage_id in kept
        if stage_id not in in_place
    ]  # fmt: skip


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


def parse_stage_moves(texts: list[str], name: str) -> dict[str, str]:
    """``["review=paid", ...]`` as ``{"review": "paid"}``; ``ValueError`` names a malformed one (as ``name``)."""
    moves: dict[str, str] = {}
    for text in texts:
        old, sep, new = text.partition("=")
        if not (sep and old.strip() and new.strip()):
            raise ValueError(f"{name} {text!r}: write it OLD=NEW, e.g. review=paid")
        moves[old.strip()] = new.strip()
    return moves


def stage_move_problems(
    before: Pipeline | None, after: Pipeline, moves: dict[str, str], occupied: dict[str, int]
) -> list[str]:
    """Why ``moves`` (a removed stage -> the stage of ``after`` an order that would enter it
    enters instead) cannot go with ``after``: a move that is not of a removed stage or not
    to a stage of ``after``, or a removed stage with orders in it (``occupied``) and no move."""
    removed = [stage for stage in before.stage_ids if stage not in after.stage_ids] if before else []
    problems = []
    for old, new in moves.items():
        if old not in removed:
            what = "a stage of the new version too" if old in after.stage_ids else "not a stage of the version before"
            problems.append(f"stage move {old}={new}: {old!r} is {what}")
        elif new not in after.stage_ids:
            problems.append(f"stage move {old}={new}: the new version has no stage {new!r}")
    for stage in removed:
        if stage not in moves and occupied.get(stage):
            problems.append(f"stage {stage!r} is removed but {occupied[stage]} order(s) are in it: "
                            f"say where they go (a stage move {stage}=STAGE)")  # fmt: skip
    return problems


class Reach(BaseModel):
    """What one change of a new version does to the orders that are running."""

    change: Change
    orders: int
    """The orders it concerns: those in its stage, or all of them for a change they all take."""
    how: str


def preview(before: Pipeline, after: Pipeline, occupied: dict[str, int], moves: dict[str, str]) -> list[Reach]:
    """How each change of ``after`` reaches the orders running ``before`` (``occupied``: how
    many are in each stage). An order keeps the version its current stage was entered with
    and takes the newest as it next enters a stage."""
    every = sum(occupied.values())
    reaches = []
    for change in changes(before, after):
        stage = change.stage or ""
        here = occupied.get(stage, 0)
        if change.part == "rule" or (change.part == "stage" and change.action == "changed"):
            how = f"orders entering {stage!r} from now on run it; the {here} in it now finish it under their version"
            reaches.append(Reach(change=change, orders=here, how=how))
        elif change.action == "removed" and change.part == "stage":
            instead = f"goes to {moves[stage]!r}" if stage in moves else "stays on its version for it"
            how = f"the {here} in it now finish it under their version; an order that would enter it {instead}"
            reaches.append(Reach(change=change, orders=here, how=how))
        else:  # triggers, new or moved stages, the pipeline's own fields: read from any stage
            how = f"each of the {every} running orders takes it as it next enters a stage"
            reaches.append(Reach(change=change, orders=every, how=how))
    return reaches
