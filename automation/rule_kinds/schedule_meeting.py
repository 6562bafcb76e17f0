"""The core spec of this rule type; its activity is activities/rules/schedule_meeting.py."""

from __future__ import annotations

from automation.rule_kinds._parts import ScheduleParams
from automation.rules import RuleKind

KIND = RuleKind(
    name="schedule_meeting",
    title="Schedule meeting",
    description="plans a meeting, listed among the order's activities",
    params=ScheduleParams,
)
