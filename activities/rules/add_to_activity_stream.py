from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.add_to_activity_stream import AddToActivityStreamParams
from automation.rules import RuleResult
from store.tables_people import FeedPost


async def run(ctx: RuleContext, params: AddToActivityStreamParams) -> RuleResult:
    # The author must exist: a post signed by an unknown id would show nobody.
    author = await ctx.employee(params.author_id) if params.author_id else None
    text = await ctx.render(params.text)
    post = FeedPost(run_key=ctx.run_key, order_id=ctx.order_id, author_id=author.id if author else None, text=text)
    await ctx.write_once(post)
    return RuleResult(summary=f"posted to the activity stream: {shorten(text)}")
