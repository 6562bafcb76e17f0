"""The core spec of this rule type; its activity is activities/rules/notification.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleKind, RuleParams
from automation.templating import Template


class NotificationParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who is notified; 'responsible' = the order's")
    sender_id: LooseId | None = Field(default=None, description="employee shown as sender; empty = automation")
    text: Template = Field(min_length=1, max_length=1000)


KIND = RuleKind(
    name="notification",
    title="Notification",
    description="notifies an employee, from a chosen sender",
    params=NotificationParams,
    store_only=True,
)
