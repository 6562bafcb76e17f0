import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation.rule_kinds import rule_kind
from store.database import session
from store.tables import Notification
from tests.rules.conftest import RunRule


async def _notes(engine: AsyncEngine) -> list[Notification]:
    async with session(engine) as db:
        return list(await db.exec(select(Notification).where(Notification.order_id == "O-1")))


async def test_notifies_a_chosen_employee_from_the_automation_once(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {"employee_id": "emp-manager", "text": "Check {{ order.number }}"}
    first = await run_rule("control", params, run_key="O-1/0/5")
    await run_rule("control", params, run_key="O-1/0/5")  # the same run, retried

    notes = await _notes(rule_deps.engine)
    assert [(n.employee_id, n.sender_id, n.text) for n in notes] == [("emp-manager", None, "Check N-1")]
    assert first.summary == "notified Maria Manager: Check N-1"


async def test_notifies_the_responsible_by_default(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await run_rule("control", {"text": "hi"})

    assert [n.employee_id for n in await _notes(rule_deps.engine)] == ["emp-sales"]


def test_a_sender_cannot_be_set_in_a_pipeline_file() -> None:
    with pytest.raises(ValidationError, match="sender_id"):
        rule_kind("control").params.model_validate({"text": "hi", "sender_id": "emp-manager"})


async def test_an_unknown_employee_is_refused_without_retry(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("control", {"text": "hi", "employee_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert await _notes(rule_deps.engine) == []
