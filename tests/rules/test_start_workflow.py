import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from automation.effects import StartChildWorkflow
from automation.rule_kinds.start_workflow import StartWorkflowParams
from tests.rules.conftest import RunRule


async def test_renders_and_checks_the_input_and_asks_the_order_to_start_the_child(run_rule: RunRule) -> None:
    params = {
        "workflow": "follow_up",
        "input": {"after_hours": "{{ variables.hours }}", "note": "Call {{ customer.first_name }}"},
    }
    result = await run_rule("start_workflow", params, variables={"hours": "2"})
    assert result.effect == StartChildWorkflow(workflow="follow_up", input={"after_hours": 2.0, "note": "Call Ada"})


async def test_an_input_that_renders_wrong_is_refused(run_rule: RunRule) -> None:
    params = {"workflow": "follow_up", "input": {"after_hours": "{{ variables.hours }}"}}
    with pytest.raises(ApplicationError) as refused:
        await run_rule("start_workflow", params, variables={"hours": "soon"})
    assert refused.value.non_retryable
    assert refused.value.message == (
        "follow_up input: after_hours: input should be a valid number, unable to parse string as a number"
    )


def test_an_unknown_workflow_or_input_is_refused_at_pipeline_load() -> None:
    with pytest.raises(ValidationError, match="unknown workflow 'nope'; known: follow_up"):
        StartWorkflowParams(workflow="nope")
    with pytest.raises(ValidationError, match="follow_up takes no input colour; its input: after_hours, note"):
        StartWorkflowParams.model_validate({"workflow": "follow_up", "input": {"colour": "red"}})
