"""The core spec of this rule type; its activity is activities/rules/start_workflow.py."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, model_validator

from automation.children import CHILD_WORKFLOWS
from automation.effects import StartChildWorkflow
from automation.models import is_inside
from automation.rules import RuleKind, RuleParams


class StartWorkflowParams(RuleParams):
    workflow: str = Field(description="one of automation/children.py's CHILD_WORKFLOWS")
    input: dict[str, Any] = Field(default_factory=dict, description="string values are templates")

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> StartWorkflowParams:
        child = CHILD_WORKFLOWS.get(self.workflow)
        if child is None:
            raise ValueError(f"unknown workflow {self.workflow!r}; known: {', '.join(sorted(CHILD_WORKFLOWS))}")
        unknown = sorted(set(self.input) - set(child.input.model_fields))
        # Only a pipeline file is held to it: a running order's pipeline is read tolerantly.
        if unknown and not is_inside(info):
            fields = ", ".join(child.input.model_fields)
            raise ValueError(f"{self.workflow} takes no input {', '.join(unknown)}; its input: {fields}")
        return self


KIND = RuleKind(
    name="start_workflow",
    title="Start workflow",
    description="starts a chosen workflow as a child of the order",
    params=StartWorkflowParams,
    effect=StartChildWorkflow,
)
