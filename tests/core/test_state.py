"""The order's state moves on without a server: a branch's progress through its rules, the
values conditions and templates read, what a rule's result may add."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from automation import limits
from automation.order import NewOrder
from automation.pipeline import parse_pipeline
from automation.rules import RuleResult, result_problem
from automation.state import Branch, OrderState, StageVisit

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
PIPELINE = parse_pipeline("""
id: p
title: P
constants: {shop: Ada's}
stages:
  - id: new
    title: New
    rules:
      - {type: wait, params: {timeout: {after: 1d}}}
      - {type: write_to_log, after_previous: true, params: {message: a}}
      - {type: write_to_log, params: {message: b}}
  - {id: done, title: Done, final: success}
""")


def _state() -> OrderState:
    branches = [Branch(rules=rules, ready_at=START) for rules in PIPELINE.stage("new").branches()]
    order = NewOrder(order_id="o-1", pipeline_id="p", fields={"total": 12})
    visit = StageVisit(stage="new", visit=0, entered_at=START, branches=branches)
    return OrderState(order=order, pipeline=PIPELINE, responsible_id="emp-1", fields={"total": 12}, current=visit)


def test_a_chain_is_one_branch_and_a_rule_without_after_previous_starts_another() -> None:
    assert [branch.rules for branch in _state().current.branches] == [[0, 1], [2]]


def test_advancing_hands_the_end_of_a_wait_to_the_rules_after_it() -> None:
    branch = _state().current.branches[0]
    branch.wait_started, branch.wait_deadline, branch.ready = True, START + timedelta(days=1), True
    branch.wait_outcome = {"ended_by": "timeout", "reason": "no customer activity before the deadline"}
    branch.advance(START + timedelta(days=1))
    after: Branch = branch  # advanced: what the Wait set is gone
    assert (after.position, after.ready_at, after.done) == (1, START + timedelta(days=1), False)
    assert (after.wait_started, after.wait_deadline, after.wait_outcome, after.ready) == (False, None, None, False)
    assert branch.last_wait == {"ended_by": "timeout", "reason": "no customer activity before the deadline"}
    branch.advance(START + timedelta(days=2))
    assert branch.done and branch.last_wait is not None  # kept for the chain, once set


def test_conditions_and_templates_read_the_order_as_it_is() -> None:
    state = _state()
    state.variables["code"] = "X1"
    values = state.values()
    assert values["order"] == {
        "total": 12, "id": "o-1", "pipeline": "p", "stage": "new", "customer_id": None,
        "responsible_id": "emp-1", "last_channel_id": None,
    }  # fmt: skip
    assert (values["variables"], values["constants"], values["trigger"]) == ({"code": "X1"}, {"shop": "Ada's"}, {})
    values["variables"]["code"] = "changed"
    assert state.variables == {"code": "X1"}  # a copy: templates cannot change the order


def test_a_result_that_would_outgrow_the_order_is_refused_saying_why() -> None:
    state = _state()
    state.variables = {"big": "x" * (limits.VARIABLES_BYTES - 100)}
    assert result_problem(state, RuleResult(summary="s", variables={"small": 1})) is None
    problem = result_problem(state, RuleResult(summary="s", variables={"more": "y" * 200}))
    assert problem is not None and problem.startswith("the order's variables would be ")
