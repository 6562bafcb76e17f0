import pytest
from pydantic import ValidationError

from activities.rules.start_workflow import StartWorkflowParams


async def test_renders_the_input_and_asks_the_order_to_start_the_child(run_rule):
    params = {"workflow": "follow_up", "input": {"after_hours": 2, "note": "Call {{ customer.first_name }}"}}
    result = await run_rule("start_workflow", params)
    assert result.child_workflow is not None
    assert (result.child_workflow.workflow, result.child_workflow.input) == (
        "follow_up", {"after_hours": 2, "note": "Call Ada"}
    )  # fmt: skip


def test_an_unknown_workflow_is_refused_at_pipeline_load():
    with pytest.raises(ValidationError, match="unknown workflow 'nope'; known: follow_up"):
        StartWorkflowParams(workflow="nope")
