"""What rules do to the order's workflow is one typed field, declared by each kind; results
recorded before it (in histories, in the store's rule runs) still read as they meant."""

from __future__ import annotations

from datetime import timedelta

from automation.delays import Delay
from automation.effects import EndOrder, HoldForCustomer, MoveOrder, StartChildWorkflow
from automation.rule_kinds import RULE_KINDS
from automation.rule_kinds.wait import WaitParams
from automation.rules import RuleParams, RuleResult


def test_the_kinds_that_change_the_workflow_declare_how() -> None:
    declared = {name: kind.effect for name, kind in RULE_KINDS.items() if kind.effect is not None}
    assert declared == {
        "wait": HoldForCustomer, "change_status": MoveOrder, "cancel_order": MoveOrder,
        "delete_order": EndOrder, "start_workflow": StartChildWorkflow,
    }  # fmt: skip


def test_wait_holds_its_chain_before_its_activity_runs() -> None:
    params = WaitParams.model_validate({"timeout": {"after": "3d"}})
    assert params.effect_before_action() == HoldForCustomer(timeout=Delay(after=timedelta(days=3)))
    others = [kind.params for name, kind in RULE_KINDS.items() if name != "wait"]
    assert all(model.effect_before_action is RuleParams.effect_before_action for model in others)


def test_results_recorded_before_effects_read_as_they_meant() -> None:
    old = {"summary": "s", "move_to": None, "end_order": False, "child_workflow": None}
    assert RuleResult.model_validate(old).effect is None
    assert RuleResult.model_validate({**old, "move_to": "paid"}).effect == MoveOrder(stage="paid")
    assert RuleResult.model_validate({**old, "end_order": True}).effect == EndOrder()
    child = {"workflow": "follow_up", "input": {"note": "n"}}
    started = RuleResult.model_validate({**old, "child_workflow": child}).effect
    assert started == StartChildWorkflow(workflow="follow_up", input={"note": "n"})
    new = RuleResult(summary="s", effect=MoveOrder(stage="paid"))
    assert RuleResult.model_validate(new.model_dump(mode="json")) == new
