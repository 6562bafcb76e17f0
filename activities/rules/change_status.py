from pydantic import Field

from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult


class ChangeStatusParams(RuleParams):
    stage: str = Field(min_length=1, description="the stage to move the order to")

    def stage_references(self) -> list[str]:
        return [self.stage]


async def change_status(ctx: RuleContext, params: ChangeStatusParams) -> RuleResult:
    # The move itself is the workflow's: it ends this stage's rules and enters the next.
    return RuleResult(summary=f"moves the order to {params.stage!r}", move_to=params.stage)


RULE = RuleType(
    kind="change_status",
    title="Change status",
    description="moves the order to another stage; the rest of this stage's rules stop",
    params=ChangeStatusParams,
    run=change_status,
)
