from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.task import TaskParams
from automation.rules import RuleResult
from store.tables import Task


async def run(ctx: RuleContext, params: TaskParams) -> RuleResult:
    assignee = await ctx.employee(params.assignee_id)
    title = await ctx.render(params.title)
    row = Task(
        run_key=ctx.run_key,
        order_id=ctx.order_id,
        assignee_id=assignee.id,
        title=title,
        description=await ctx.render(params.description),
    )
    if params.deadline_in is not None:
        row.deadline = row.created_at + params.deadline_in
    await ctx.write_once(row)
    return RuleResult(summary=f"task for {assignee.name}: {shorten(title)}")
