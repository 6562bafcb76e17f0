"""The core spec of this rule type; its activity is activities/rules/add_comment.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class AddCommentParams(RuleParams):
    text: Template = Field(min_length=1, max_length=5000, description="the comment; order values allowed")
    author_id: LooseId | None = Field(default=None, description="employee shown as author; empty = automation")


KIND = RuleKind(
    name="add_comment",
    title="Add comment",
    description="adds a comment to the order's timeline",
    params=AddCommentParams,
    store_only=True,
)
