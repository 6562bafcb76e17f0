import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Notification
from tests.rules.conftest import RunRule


async def test_notifies_the_responsible_from_a_sender(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await run_rule("notification", {"text": "Look at {{ order.number }}", "sender_id": "emp-manager"})

    async with session(rule_deps.engine) as db:
        notes = list(await db.exec(select(Notification).where(Notification.order_id == "O-1")))
    assert [(n.employee_id, n.sender_id, n.text) for n in notes] == [("emp-sales", "emp-manager", "Look at N-1")]


async def test_an_unknown_employee_is_refused_without_retry(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("notification", {"text": "hi", "employee_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert "no employee with id 'emp-nobody'" in str(refused.value)
