from pydantic import Field

from activities.rules.base import RESPONSIBLE, RuleContext, RuleType, shorten
from automation.delays import Duration
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables import Task


class TaskParams(RuleParams):
    assignee_id: LooseId = Field(default=RESPONSIBLE, description="who does it; 'responsible' = the order's")
    title: Template = Field(min_length=1, max_length=255)
    description: Template = Field(default="", max_length=5000)
    deadline_in: Duration | None = Field(default=None, description="deadline, counted from creation")


async def task(ctx: RuleContext, params: TaskParams) -> RuleResult:
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


RULE = RuleType(
    kind="task",
    title="Task",
    description="creates a task for an employee",
    params=TaskParams,
    run=task,
)
