from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import LogLine
from tests.rules.conftest import RunRule


async def test_writes_the_message_to_the_order_log(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    result = await run_rule("write_to_log", {"message": "total is {{ order.total }}", "level": "warning"},
                            order={"total": 99})  # fmt: skip

    async with session(rule_deps.engine) as db:
        lines = list(await db.exec(select(LogLine).where(LogLine.order_id == "O-1")))
    assert [(line.level, line.message) for line in lines] == [("warning", "total is 99")]
    assert result.effective
