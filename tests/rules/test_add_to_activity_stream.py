import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables_people import FeedPost
from tests.rules.conftest import RunRule


async def _posts(engine: AsyncEngine) -> list[FeedPost]:
    async with session(engine) as db:
        return list(await db.exec(select(FeedPost).where(FeedPost.order_id == "O-1")))


async def test_posts_a_templated_message_once_even_when_retried(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"text": "{{ customer.first_name }} ordered {{ order.number }}", "author_id": "emp-manager"}
    first = await run_rule("add_to_activity_stream", params, run_key="O-1/0/2")
    await run_rule("add_to_activity_stream", params, run_key="O-1/0/2")  # the same run, retried

    posts = await _posts(rule_deps.engine)
    assert [(p.text, p.author_id) for p in posts] == [("Ada ordered N-1", "emp-manager")]
    assert first.summary == "posted to the activity stream: Ada ordered N-1"


async def test_without_an_author_the_automation_posts(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await run_rule("add_to_activity_stream", {"text": "hello"})

    assert [(p.text, p.author_id) for p in await _posts(rule_deps.engine)] == [("hello", None)]


async def test_an_unknown_author_is_refused_and_nothing_is_posted(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("add_to_activity_stream", {"text": "hello", "author_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert await _posts(rule_deps.engine) == []
