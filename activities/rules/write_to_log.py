from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.write_to_log import WriteToLogParams
from automation.rules import RuleResult
from store.tables import LogLine


async def run(ctx: RuleContext, params: WriteToLogParams) -> RuleResult:
    message = await ctx.render(params.message)
    await ctx.write_once(LogLine(run_key=ctx.run_key, order_id=ctx.order_id, level=params.level, message=message))
    return RuleResult(summary=f"logged ({params.level}): {shorten(message)}")
