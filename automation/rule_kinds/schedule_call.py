"""The core spec of this rule type; its activity is activities/rules/schedule_call.py."""

from __future__ import annotations

from automation.rule_kinds._parts import ScheduleParams
from automation.rules import RuleKind

KIND = RuleKind(
    name="schedule_call",
    title="Schedule call",
    description="plans a call, listed among the order's activities",
    params=ScheduleParams,
)
