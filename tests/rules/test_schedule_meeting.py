from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables_people import OrderActivity
from tests.rules.conftest import RunRule


async def _activities(engine: AsyncEngine) -> list[OrderActivity]:
    async with session(engine) as db:
        return list(await db.exec(select(OrderActivity).where(OrderActivity.order_id == "O-1")))


async def test_plans_a_meeting_for_a_chosen_employee_once_even_when_retried(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {
        "subject": "Fitting for {{ order.number }}",
        "with_whom": "{{ customer.first_name }} and her tailor",
        "starts_in": "1d",
        "duration": "1h30m",
        "assignee_id": "emp-manager",
    }
    await run_rule("schedule_meeting", params, run_key="O-1/0/6")
    await run_rule("schedule_meeting", params, run_key="O-1/0/6")  # the same run, retried

    [meeting] = await _activities(rule_deps.engine)
    assert (meeting.kind, meeting.subject, meeting.with_whom, meeting.assignee_id) == (
        "meeting", "Fitting for N-1", "Ada and her tailor", "emp-manager",
    )  # fmt: skip
    assert meeting.starts_at is not None and meeting.ends_at is not None
    assert meeting.starts_at - meeting.created_at == timedelta(days=1)
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=1, minutes=30)


async def test_without_a_customer_the_meeting_names_nobody(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"subject": "Team sync", "starts_in": "0s"}
    result = await run_rule("schedule_meeting", params, order={"customer_id": None})

    [meeting] = await _activities(rule_deps.engine)
    assert (meeting.kind, meeting.with_whom, meeting.starts_at) == ("meeting", None, meeting.created_at)
    assert result.summary == "meeting in 0:00:00 for Sam Sales: Team sync"
