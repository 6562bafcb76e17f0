from typing import Any

from pydantic import Field, field_validator

from activities.rules.base import RuleContext, RuleType
from automation.children import CHILD_WORKFLOWS
from automation.rules import ChildWorkflowRequest, RuleParams, RuleResult


class StartWorkflowParams(RuleParams):
    workflow: str = Field(description="one of automation/children.py's CHILD_WORKFLOWS")
    input: dict[str, Any] = Field(default_factory=dict, description="string values are templates")

    @field_validator("workflow")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in CHILD_WORKFLOWS:
            raise ValueError(f"unknown workflow {name!r}; known: {', '.join(sorted(CHILD_WORKFLOWS))}")
        return name


async def start_workflow(ctx: RuleContext, params: StartWorkflowParams) -> RuleResult:
    # The activity renders the input; the order's workflow starts the child (only workflows can).
    rendered = {k: ctx.render(v) if isinstance(v, str) else v for k, v in params.input.items()}
    return RuleResult(
        summary=f"starts workflow {params.workflow!r}",
        child_workflow=ChildWorkflowRequest(workflow=params.workflow, input=rendered),
    )


RULE = RuleType(
    kind="start_workflow",
    title="Start workflow",
    description="starts a chosen workflow as a child of the order",
    params=StartWorkflowParams,
    run=start_workflow,
)
