async def test_asks_the_workflow_to_move_the_order(run_rule):
    result = await run_rule("change_status", {"stage": "completed"})
    assert result.move_to == "completed"
