from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.add_comment import AddCommentParams
from automation.rules import RuleResult
from store.tables import Comment


async def run(ctx: RuleContext, params: AddCommentParams) -> RuleResult:
    text = await ctx.render(params.text)
    await ctx.write_once(Comment(run_key=ctx.run_key, order_id=ctx.order_id, author_id=params.author_id, text=text))
    return RuleResult(summary=f"comment added: {shorten(text)}")
