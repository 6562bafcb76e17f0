from pydantic import ValidationError

from activities.rules.base import RuleContext, refuse
from automation.children import CHILD_WORKFLOWS
from automation.effects import StartChildWorkflow
from automation.errors import describe
from automation.rule_kinds.start_workflow import StartWorkflowParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: StartWorkflowParams) -> RuleResult:
    # The activity renders and checks the input; the order's workflow starts the child (only workflows can).
    rendered = {k: (await ctx.render(v)) if isinstance(v, str) else v for k, v in params.input.items()}
    try:
        valid = CHILD_WORKFLOWS[params.workflow].input.model_validate(rendered)
    except ValidationError as err:
        raise refuse(f"{params.workflow} input: " + "; ".join(describe(err))) from None
    return RuleResult(
        summary=f"starts workflow {params.workflow!r}",
        effect=StartChildWorkflow(workflow=params.workflow, input=valid.model_dump(mode="json")),
    )
