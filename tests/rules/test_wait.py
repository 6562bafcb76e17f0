from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Notification
from tests.rules.conftest import RunRule


async def test_when_the_wait_ends_the_responsible_is_notified_why(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    wait = {"ended_by": "timeout", "reason": "no customer activity before the deadline"}
    await run_rule("wait", {"timeout": {"after": "3d"}}, wait=wait)

    async with session(rule_deps.engine) as db:
        notes = list(await db.exec(select(Notification).where(Notification.order_id == "O-1")))
    assert [(n.employee_id, n.text) for n in notes] == [
        ("emp-sales", "Order N-1: no customer activity before the deadline")
    ]


async def test_without_a_responsible_nobody_is_notified(run_rule: RunRule) -> None:
    result = await run_rule("wait", {}, order={"responsible_id": None}, wait={"reason": "x"})
    assert not result.effective
