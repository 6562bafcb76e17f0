"""The core spec of this rule type; its activity is activities/rules/add_to_activity_stream.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class AddToActivityStreamParams(RuleParams):
    text: Template = Field(min_length=1, max_length=2000, description="the message; order values allowed")
    author_id: LooseId | None = Field(default=None, description="employee shown as author; empty = automation")


KIND = RuleKind(
    name="add_to_activity_stream",
    title="Add to activity stream",
    description="posts a message to the news feed",
    params=AddToActivityStreamParams,
    store_only=True,
)
