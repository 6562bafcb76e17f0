from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Order
from tests.rules.conftest import RunRule


async def test_changes_the_responsible_in_the_store_and_hands_it_back(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    result = await run_rule("change_responsible", {"employee_id": "emp-warehouse"})

    assert result.order_changes == {"responsible_id": "emp-warehouse"}
    async with session(rule_deps.engine) as db:
        order = await db.get(Order, "O-1")
    assert order is not None and order.responsible_id == "emp-warehouse"


async def test_the_same_responsible_is_no_change(run_rule: RunRule) -> None:
    result = await run_rule("change_responsible", {"employee_id": "emp-sales"})
    assert not result.effective
    assert result.order_changes == {}
