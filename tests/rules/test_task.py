from datetime import timedelta

from sqlmodel import select

from store.database import session
from store.tables import Task


async def test_creates_a_task_with_a_deadline_for_the_assignee(run_rule, rule_deps):
    await run_rule(
        "task",
        {
            "assignee_id": "emp-warehouse",
            "title": "Pack {{ order.number }}",
            "description": "fragile",
            "deadline_in": "4h",
        },
    )

    async with session(rule_deps.engine) as db:
        tasks = list(await db.exec(select(Task).where(Task.order_id == "O-1")))
    assert [(t.assignee_id, t.title, t.description) for t in tasks] == [("emp-warehouse", "Pack N-1", "fragile")]
    assert tasks[0].deadline is not None
    assert tasks[0].deadline - tasks[0].created_at == timedelta(hours=4)
