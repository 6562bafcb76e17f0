from pydantic import Field

from activities.rules.base import RuleContext, RuleType, shorten
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables import Comment


class AddCommentParams(RuleParams):
    text: Template = Field(min_length=1, max_length=5000, description="the comment; order values allowed")
    author_id: LooseId | None = Field(default=None, description="employee shown as author; empty = automation")


async def add_comment(ctx: RuleContext, params: AddCommentParams) -> RuleResult:
    text = await ctx.render(params.text)
    await ctx.write_once(Comment(run_key=ctx.run_key, order_id=ctx.order_id, author_id=params.author_id, text=text))
    return RuleResult(summary=f"comment added: {shorten(text)}")


RULE = RuleType(
    kind="add_comment",
    title="Add comment",
    description="adds a comment to the order's timeline",
    params=AddCommentParams,
    run=add_comment,
)
