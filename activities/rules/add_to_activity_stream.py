from pydantic import Field

from activities.rules.base import RuleContext, RuleType, shorten
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables_people import FeedPost


class AddToActivityStreamParams(RuleParams):
    text: Template = Field(min_length=1, max_length=2000, description="the message; order values allowed")
    author_id: LooseId | None = Field(default=None, description="employee shown as author; empty = automation")


async def add_to_activity_stream(ctx: RuleContext, params: AddToActivityStreamParams) -> RuleResult:
    # The author must exist: a post signed by an unknown id would show nobody.
    author = await ctx.employee(params.author_id) if params.author_id else None
    text = await ctx.render(params.text)
    post = FeedPost(run_key=ctx.run_key, order_id=ctx.order_id, author_id=author.id if author else None, text=text)
    await ctx.write_once(post)
    return RuleResult(summary=f"posted to the activity stream: {shorten(text)}")


RULE = RuleType(
    kind="add_to_activity_stream",
    title="Add to activity stream",
    description="posts a message to the news feed",
    params=AddToActivityStreamParams,
    run=add_to_activity_stream,
)
