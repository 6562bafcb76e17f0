"""The core spec of this rule type; its activity is activities/rules/activity.py."""

from __future__ import annotations

from pydantic import Field

from automation.delays import Duration
from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleKind, RuleParams
from automation.templating import Template


class ActivityParams(RuleParams):
    subject: Template = Field(min_length=1, max_length=255)
    description: Template = Field(default="", max_length=5000)
    assignee_id: LooseId = Field(default=RESPONSIBLE, description="who does it; 'responsible' = the order's")
    due_in: Duration | None = Field(default=None, description="deadline, counted from creation, e.g. 1d")


KIND = RuleKind(
    name="activity",
    title="Activity",
    description="adds an activity (to-do) to the order",
    params=ActivityParams,
)
