import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.rules.start_workflow import StartWorkflowParams


async def test_renders_and_checks_the_input_and_asks_the_order_to_start_the_child(run_rule):
    params = {
        "workflow": "follow_up",
        "input": {"after_hours": "{{ variables.hours }}", "note": "Call {{ customer.first_name }}"},
    }
    result = await run_rule("start_workflow", params, variables={"hours": "2"})
    assert result.child_workflow is not None
    assert (result.child_workflow.workflow, result.child_workflow.input) == (
        "follow_up", {"after_hours": 2.0, "note": "Call Ada"}
    )  # fmt: skip


async def test_an_input_that_renders_wrong_is_refused(run_rule):
    params = {"workflow": "follow_up", "input": {"after_hours": "{{ variables.hours }}"}}
    with pytest.raises(ApplicationError) as refused:
        await run_rule("start_workflow", params, variables={"hours": "soon"})
    assert refused.value.non_retryable
    assert refused.value.message == (
        "follow_up input: after_hours: input should be a valid number, unable to parse string as a number"
    )


def test_an_unknown_workflow_or_input_is_refused_at_pipeline_load():
    with pytest.raises(ValidationError, match="unknown workflow 'nope'; known: follow_up"):
        StartWorkflowParams(workflow="nope")
    with pytest.raises(ValidationError, match="follow_up takes no input colour; its input: after_hours, note"):
        StartWorkflowParams.model_validate({"workflow": "follow_up", "input": {"colour": "red"}})
