"""The core spec of this rule type; its activity is activities/rules/write_to_log.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class WriteToLogParams(RuleParams):
    message: Template = Field(min_length=1, max_length=2000, description="the log line; order values allowed")
    level: Literal["info", "warning", "error"] = "info"


KIND = RuleKind(
    name="write_to_log",
    title="Write to log",
    description="writes a message to the order's automation log",
    params=WriteToLogParams,
    store_only=True,
)
