import logging
from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Task
from tests.rules.conftest import RunRule


async def test_creates_a_task_with_a_deadline_for_the_assignee(run_rule: RunRule, rule_deps: WorkerResources) -> None:
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


async def test_a_refusal_is_one_line_in_the_log_not_a_traceback(
    run_rule: RunRule, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="temporalio")
    with pytest.raises(ApplicationError, match="the order has no responsible employee"):
        await run_rule("task", {"title": "Call back"}, order={"responsible_id": None})
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage().split(" (", 1)[0] for r in shown] == [
        "order O-1: task refused: the order has no responsible employee"
    ]
    assert not any(r.exc_info for r in shown)
