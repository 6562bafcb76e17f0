from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables_people import OrderActivity
from tests.rules.conftest import RunRule


async def _activities(engine: AsyncEngine) -> list[OrderActivity]:
    async with session(engine) as db:
        return list(await db.exec(select(OrderActivity).where(OrderActivity.order_id == "O-1")))


async def test_adds_a_todo_with_a_deadline_once_even_when_retried(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {"subject": "Confirm {{ order.number }}", "description": "ask {{ customer.first_name }}", "due_in": "1d"}
    first = await run_rule("activity", params, run_key="O-1/0/3")
    await run_rule("activity", params, run_key="O-1/0/3")  # the same run, retried

    [todo] = await _activities(rule_deps.engine)
    assert (todo.kind, todo.subject, todo.description) == ("todo", "Confirm N-1", "ask Ada")
    assert todo.assignee_id == "emp-sales"  # the order's responsible, by default
    assert todo.deadline is not None
    assert todo.deadline - todo.created_at == timedelta(days=1)
    assert (todo.starts_at, todo.ends_at, todo.with_whom) == (None, None, None)
    assert first.summary == "to-do for Sam Sales: Confirm N-1"


async def test_a_todo_without_deadline_for_a_chosen_assignee(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await run_rule("activity", {"subject": "Restock", "assignee_id": "emp-warehouse"})

    [todo] = await _activities(rule_deps.engine)
    assert (todo.assignee_id, todo.subject, todo.deadline) == ("emp-warehouse", "Restock", None)


async def test_an_unknown_assignee_is_refused_and_nothing_is_added(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("activity", {"subject": "x", "assignee_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert await _activities(rule_deps.engine) == []
