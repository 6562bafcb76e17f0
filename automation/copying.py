"""Copying and moving rules and triggers between the stages of a pipeline, or to another
pipeline: each keeps its type, parameters, delay, condition and "after the previous rule",
and goes to the end of the target stage's rules or triggers. What cannot go (a target stage
that does not exist, a rule naming a stage the target pipeline lacks, a stage that would
hold too many) is refused with the reason, item by item; the rest goes. A move is a copy
and, for what went, a delete. Pure: the store makes each changed pipeline a new version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from automation import limits
from automation.errors import describe
from automation.pipeline import Pipeline


class Item(BaseModel):
    """A rule or a trigger of a stage, by its number there (1 = the first)."""

    kind: Literal["rule", "trigger"]
    stage: str = Field(min_length=1, max_length=limits.SLUG_CHARS)
    number: int = Field(ge=1, le=max(limits.RULES_PER_STAGE, limits.TRIGGERS_PER_STAGE))

    def label(self) -> str:
        return f"{self.kind} {self.number} of stage {self.stage!r}"


@dataclass
class Copied:
    target: Pipeline
    """The target pipeline with what went (the source itself when it is the same pipeline)."""
    source: Pipeline | None
    """The source without what went, for a move to another pipeline; None otherwise."""
    went: list[Item] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """One line per item that did not go, saying why."""


def copy_items(source: Pipeline, items: list[Item], target: Pipeline, stage: str, move: bool = False) -> Copied:
    """Copies (``move``: moves) ``items`` of ``source`` to the end of ``stage`` of ``target``
    (``target`` may be ``source``)."""
    same = target.id == source.id
    data = target.model_dump(mode="json")
    went: list[Item] = []
    refused: list[str] = []
    for position, item in enumerate(items):
        if item in items[:position]:
            refused.append(f"{item.label()}: named twice; it goes once")
            continue
        found = _find(source, item)
        if isinstance(found, str):
            refused.append(f"{item.label()}: {found}")
            continue
        trial = _with(data, stage, item.kind, found)
        problem = _problem(trial, stage)
        if problem is not None:
            refused.append(f"{item.label()}: {problem}")
            continue
        data = trial
        went.append(item)
    copied = Pipeline.model_validate(data)
    if not move or not went:
        return Copied(target=copied, source=None, went=went, refused=refused)
    if same:  # one pipeline: the copies are in; the originals go
        return Copied(target=_without(copied, went), source=None, went=went, refused=refused)
    return Copied(target=copied, source=_without(source, went), went=went, refused=refused)


def _find(pipeline: Pipeline, item: Item) -> dict[str, Any] | str:
    """The item's content as plain data, or why it is not there."""
    if item.stage not in pipeline.stage_ids:
        return f"pipeline {pipeline.id!r} has no stage {item.stage!r}"
    stage = pipeline.stage(item.stage)
    found = stage.rules if item.kind == "rule" else stage.triggers
    if item.number > len(found):
        return f"stage {item.stage!r} has {len(found)} {item.kind}(s)"
    return found[item.number - 1].model_dump(mode="json")


def _with(data: dict[str, Any], stage: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    part = "rules" if kind == "rule" else "triggers"
    stages = [{**s, part: [*s[part], content]} if s["id"] == stage else s for s in data["stages"]]
    return {**data, "stages": stages}


def _problem(data: dict[str, Any], stage: str) -> str | None:
    """Why the pipeline ``data`` (with one more item in ``stage``) is not valid; None if it is."""
    if stage not in [s["id"] for s in data["stages"]]:
        return f"pipeline {data['id']!r} has no stage {stage!r}"
    try:
        Pipeline.model_validate(data)
    except ValidationError as err:
        return "; ".join(describe(err))
    return None


def _without(pipeline: Pipeline, items: list[Item]) -> Pipeline:
    """``pipeline`` without ``items`` (numbers as they were before any was taken out). A rule
    that went and began its chain leaves the beginning to the rule after it: the chains of
    the rules that stay are the same, less the rules that went."""
    data = pipeline.model_dump(mode="json")
    for stage in data["stages"]:
        gone = {item.number for item in items if item.stage == stage["id"] and item.kind == "trigger"}
        stage["triggers"] = [t for number, t in enumerate(stage["triggers"], start=1) if number not in gone]
        gone = {item.number for item in items if item.stage == stage["id"] and item.kind == "rule"}
        kept: list[dict[str, Any]] = []
        begins = False  # a rule that went began a chain that goes on
        for number, rule in enumerate(stage["rules"], start=1):
            if number in gone:
                begins = begins or not rule["after_previous"]
                continue
            if begins and rule["after_previous"]:
                rule = {**rule, "after_previous": False}
            begins = False
            kept.append(rule)
        stage["rules"] = kept
    return Pipeline.model_validate(data)
