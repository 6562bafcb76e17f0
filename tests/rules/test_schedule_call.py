from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from automation.rule_kinds import rule_kind
from store.database import session
from store.tables_people import OrderActivity
from tests.rules.conftest import RunRule


async def _activities(engine: AsyncEngine) -> list[OrderActivity]:
    async with session(engine) as db:
        return list(await db.exec(select(OrderActivity).where(OrderActivity.order_id == "O-1")))


async def test_plans_a_call_with_the_customer_once_even_when_retried(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {"subject": "Confirm delivery of {{ order.number }}", "starts_in": "2h"}
    first = await run_rule("schedule_call", params, run_key="O-1/0/4")
    await run_rule("schedule_call", params, run_key="O-1/0/4")  # the same run, retried

    [call] = await _activities(rule_deps.engine)
    assert (call.kind, call.subject, call.with_whom, call.assignee_id) == (
        "call", "Confirm delivery of N-1", "Ada Lovelace", "emp-sales",
    )  # fmt: skip
    assert call.starts_at is not None and call.ends_at is not None
    assert call.starts_at - call.created_at == timedelta(hours=2)
    assert call.ends_at - call.starts_at == timedelta(minutes=30)  # the default length
    assert first.summary == "call with Ada Lovelace in 2:00:00 for Sam Sales: Confirm delivery of N-1"


@pytest.mark.parametrize("params", [{"subject": "x"}, {"subject": "x", "starts_in": "-1h"},
                                    {"subject": "x", "starts_in": "1h", "duration": "0s"}])  # fmt: skip
def test_a_missing_or_negative_start_or_an_empty_length_is_refused_at_load(params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        rule_kind("schedule_call").params.model_validate(params)
