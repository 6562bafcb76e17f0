"""The linter: what a valid pipeline file may still get wrong, each finding with its place
and whether it is an error (the pipeline cannot work as written) or a warning (it works,
but likely not as meant). Pure: it reads the pipeline only.

- trigger loops: stages whose rules move the order to each other (Change status, or an
  event a rule raises that a trigger of the other stage takes), round and round;
- stages that nothing can reach (no trigger, no Change status, not the first);
- rules that never run: after a rule in their chain that surely moves the order away;
- a variable a rule reads before the rule of its stage that sets it has run (a later rule,
  or one in a parallel chain) when no other stage sets it, or that no rule sets at all,
  unless its declaration gives it a default (undeclared names are errors of the file);
- a Wait with no deadline (it waits for the customer for ever)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel

from automation.effects import MoveOrder
from automation.pipeline import Pipeline, RuleSpec, Stage
from automation.references import matches, reads, sets


class Finding(BaseModel):
    severity: Literal["error", "warning"]
    place: str
    """As a validation problem names it: ``stages[2].rules[1]``."""
    message: str

    def line(self) -> str:
        return f"{self.severity}: {self.place}: {self.message}"


def lint(pipeline: Pipeline) -> list[Finding]:
    """Every finding, errors first, each in pipeline order."""
    found = [
        *_loops(pipeline),
        *_unreachable(pipeline),
        *_never_run(pipeline),
        *_references(pipeline),
        *_endless_waits(pipeline),
    ]
    return sorted(found, key=lambda f: f.severity != "error")


def _place(pipeline: Pipeline, stage: str, rule: int | None = None) -> str:
    where = f"stages[{pipeline.position(stage)}]"
    return where if rule is None else f"{where}.rules[{rule}]"


# --- moves: loops and reachability ------------------------------------------------------


def _moves_from(pipeline: Pipeline, stage: Stage) -> dict[str, str]:
    """The stages an order in ``stage`` can be moved to by the engine itself (its rules), and how."""
    position = pipeline.position(stage.id)
    raised: dict[str, str] = {}
    if stage.final == "failure":
        raised["order_cancelled"] = "entering it (Order cancelled)"
    moves: dict[str, str] = {}
    for index, rule in enumerate(stage.rules):
        kind = rule.kind
        if kind is None:
            continue
        for event in kind.raises:
            raised.setdefault(event, f"rule {index + 1} ({rule.label}) raises {event}")
        if kind.effect is MoveOrder:  # a move to the stage it is in changes nothing
            for stage_id in _stage_references(rule):
                if stage_id != stage.id:
                    moves.setdefault(stage_id, f"rule {index + 1} ({rule.label}) moves it there")
    for target_position, target in enumerate(pipeline.stages):
        for trigger in target.triggers:
            reason = raised.get(trigger.type)
            candidate = target_position > position or trigger.allow_back
            if reason is not None and candidate and target.id != stage.id:
                moves.setdefault(target.id, f"{reason}, which a trigger of {target.id!r} takes")
    return moves


def _loops(pipeline: Pipeline) -> Iterator[Finding]:
    """One finding per group of stages that move the order round among themselves (a
    strongly connected component of the moves), with one such round: listing every round
    would take time that grows with the factorial of the stages."""
    graph = {stage.id: _moves_from(pipeline, stage) for stage in pipeline.stages}
    for members in _components(graph, pipeline.stage_ids):
        if len(members) < 2:
            continue
        cycle = _a_cycle(graph, members)
        steps = "; ".join(f"{a} -> {b}: {graph[a][b]}" for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True))
        path = " -> ".join([*cycle, cycle[0]])
        more = len(members) - len(cycle)
        others = f" (and {more} more stage(s) in the same loop)" if more else ""
        message = f"trigger loop {path}{others} ({steps}); the engine stops it after a few rounds"
        yield Finding(severity="warning", place=_place(pipeline, members[0]), message=message)


def _components(graph: dict[str, dict[str, str]], order: list[str]) -> list[list[str]]:
    """The strongly connected components (Tarjan), each in pipeline order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            found.append(sorted(members, key=order.index))

    for node in order:
        if node not in index:
            visit(node)
    return sorted(found, key=lambda members: order.index(members[0]))


def _a_cycle(graph: dict[str, dict[str, str]], members: list[str]) -> list[str]:
    """A shortest round from the first of ``members`` back to it, within them."""
    start, inside = members[0], set(members)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in graph[node]:
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if target in inside and target not in came_from:
                came_from[target] = node
                queue.append(target)
    return [start]  # not reached: a component of two or more has a round through each member


def _unreachable(pipeline: Pipeline) -> Iterator[Finding]:
    reached = {pipeline.stages[0].id}
    waiting = [pipeline.stages[0].id]
    while waiting:
        stage = pipeline.stage(waiting.pop())
        position = pipeline.position(stage.id)
        # Events from outside can fire any trigger after the stage, or an allow-back one anywhere.
        by_events = [t.id for i, t in enumerate(pipeline.stages) if t.triggers and (i > position or any(
            trigger.allow_back for trigger in t.triggers))]  # fmt: skip
        for target in [*by_events, *_moves_from(pipeline, stage)]:
            if target not in reached:
                reached.add(target)
                waiting.append(target)
    for stage in pipeline.stages:
        if stage.id not in reached:
            yield Finding(severity="warning", place=_place(pipeline, stage.id),
                          message=f"stage {stage.id!r} cannot be reached: no trigger, no Change status leads "
                                  "there, and it is not the first; its rules never run")  # fmt: skip


def _never_run(pipeline: Pipeline) -> Iterator[Finding]:
    """Rules after one in their chain that surely moves the order to another stage (no
    condition that could skip it); a rule that may do nothing (Delete order of a paid order,
    a condition that does not hold) lets its chain go on."""
    for stage in pipeline.stages:
        for branch in stage.branches():
            for position, index in enumerate(branch):
                rule = stage.rules[index]
                surely_moves = rule.kind is not None and rule.kind.effect is MoveOrder and rule.condition is None
                targets = _stage_references(rule)
                if surely_moves and targets and stage.id not in targets and position + 1 < len(branch):
                    for later in branch[position + 1 :]:
                        yield Finding(severity="warning", place=_place(pipeline, stage.id, later),
                                      message=f"never runs: rule {index + 1} ({rule.label}) before it in its chain "
                                              "moves the order away")  # fmt: skip
                    break


# --- references: variables and constants -------------------------------------------------


def _references(pipeline: Pipeline) -> Iterator[Finding]:
    for stage in pipeline.stages:
        elsewhere = [
            name for other in pipeline.stages if other.id != stage.id for r in other.rules for name in _writes(r)
        ]
        for branch in stage.branches():
            for position, index in enumerate(branch):
                rule = stage.rules[index]
                before = [name for earlier in branch[:position] for name in _writes(stage.rules[earlier])]
                later_here = [(other, name) for other, r in enumerate(stage.rules) if other != index
                              and other not in branch[:position] for name in _writes(r)]  # fmt: skip
                for root, name in sorted(reads(rule.params, rule.condition)):
                    if root != "variables" or sets(before, name) or sets(elsewhere, name):
                        continue
                    declared = pipeline.variables.get(name)
                    if declared is not None and declared.default is not None:
                        continue  # it reads the default until a rule sets it
                    place = _place(pipeline, stage.id, index)
                    setter = next((other for other, written in later_here if matches(written, name)), None)
                    if setter is not None:
                        yield Finding(severity="warning", place=place,
                                      message=f"reads variables.{name} before rule {setter + 1} of its stage "
                                              "sets it (later, or in a parallel chain)")  # fmt: skip
                    else:
                        unset = f"reads variables.{name}, which no rule sets and has no default: it renders empty"
                        yield Finding(severity="warning", place=place, message=unset)


def _writes(rule: RuleSpec) -> list[str]:
    """The variables a rule sets: names, or prefixes ending in ``*``."""
    try:
        return rule.params_model().variables_written()
    except ValueError:  # a rule this engine cannot run: the file's validation says so
        return []


def _stage_references(rule: RuleSpec) -> list[str]:
    try:
        return rule.params_model().stage_references()
    except ValueError:  # a rule this engine cannot run: the file's validation says so
        return []


# --- waits ---------------------------------------------------------------------------


def _endless_waits(pipeline: Pipeline) -> Iterator[Finding]:
    for stage in pipeline.stages:
        for index, rule in enumerate(stage.rules):
            if rule.type == "wait" and rule.params.get("timeout") is None:
                endless = "a Wait with no deadline (timeout): it waits for the customer for ever"
                yield Finding(severity="warning", place=_place(pipeline, stage.id, index), message=endless)
