from automation.effects import MoveOrder
from tests.rules.conftest import RunRule


async def test_asks_the_workflow_to_move_the_order(run_rule: RunRule) -> None:
    result = await run_rule("change_status", {"stage": "completed"})
    assert result.effect == MoveOrder(stage="completed")
