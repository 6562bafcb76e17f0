from typing import Literal

from pydantic import Field

from activities.rules.base import RuleContext, RuleType, shorten
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables import LogLine


class WriteToLogParams(RuleParams):
    message: Template = Field(min_length=1, max_length=2000, description="the log line; order values allowed")
    level: Literal["info", "warning", "error"] = "info"


async def write_to_log(ctx: RuleContext, params: WriteToLogParams) -> RuleResult:
    message = await ctx.render(params.message)
    await ctx.write_once(LogLine(run_key=ctx.run_key, order_id=ctx.order_id, level=params.level, message=message))
    return RuleResult(summary=f"logged ({params.level}): {shorten(message)}")


RULE = RuleType(
    kind="write_to_log",
    title="Write to log",
    description="writes a message to the order's automation log",
    params=WriteToLogParams,
    run=write_to_log,
)
