from activities.rules.base import RuleContext
from automation.effects import MoveOrder
from automation.rule_kinds.change_status import ChangeStatusParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ChangeStatusParams) -> RuleResult:
    # The move itself is the workflow's: it ends this stage's rules and enters the next.
    return RuleResult(summary=f"moves the order to {params.stage!r}", effect=MoveOrder(stage=params.stage))
