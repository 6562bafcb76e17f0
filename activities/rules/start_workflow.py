from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, model_validator

from activities.rules.base import RuleContext, RuleType, refuse
from automation.children import CHILD_WORKFLOWS
from automation.errors import describe
from automation.models import is_inside
from automation.rules import ChildWorkflowRequest, RuleParams, RuleResult


class StartWorkflowParams(RuleParams):
    workflow: str = Field(description="one of automation/children.py's CHILD_WORKFLOWS")
    input: dict[str, Any] = Field(default_factory=dict, description="string values are templates")

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> "StartWorkflowParams":
        child = CHILD_WORKFLOWS.get(self.workflow)
        if child is None:
            raise ValueError(f"unknown workflow {self.workflow!r}; known: {', '.join(sorted(CHILD_WORKFLOWS))}")
        unknown = sorted(set(self.input) - set(child.input.model_fields))
        # Only a pipeline file is held to it: a running order's pipeline is read tolerantly.
        if unknown and not is_inside(info):
            fields = ", ".join(child.input.model_fields)
            raise ValueError(f"{self.workflow} takes no input {', '.join(unknown)}; its input: {fields}")
        return self


async def start_workflow(ctx: RuleContext, params: StartWorkflowParams) -> RuleResult:
    # The activity renders and checks the input; the order's workflow starts the child (only workflows can).
    rendered = {k: (await ctx.render(v)) if isinstance(v, str) else v for k, v in params.input.items()}
    try:
        valid = CHILD_WORKFLOWS[params.workflow].input.model_validate(rendered)
    except ValidationError as err:
        raise refuse(f"{params.workflow} input: " + "; ".join(describe(err))) from None
    return RuleResult(
        summary=f"starts workflow {params.workflow!r}",
        child_workflow=ChildWorkflowRequest(workflow=params.workflow, input=valid.model_dump(mode="json")),
    )


RULE = RuleType(
    kind="start_workflow",
    title="Start workflow",
    description="starts a chosen workflow as a child of the order",
    params=StartWorkflowParams,
    run=start_workflow,
)
