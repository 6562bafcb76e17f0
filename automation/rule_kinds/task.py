"""The core spec of this rule type; its activity is activities/rules/task.py."""

from __future__ import annotations

from pydantic import Field

from automation.delays import Duration
from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleKind, RuleParams
from automation.templating import Template


class TaskParams(RuleParams):
    assignee_id: LooseId = Field(default=RESPONSIBLE, description="who does it; 'responsible' = the order's")
    title: Template = Field(min_length=1, max_length=255)
    description: Template = Field(default="", max_length=5000)
    deadline_in: Duration | None = Field(default=None, description="deadline, counted from creation")


KIND = RuleKind(
    name="task",
    title="Task",
    description="creates a task for an employee",
    params=TaskParams,
    store_only=True,
)
