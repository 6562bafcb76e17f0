import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from store.database import session
from store.tables_people import FeedPost


async def _posts(engine):
    async with session(engine) as db:
        return list(await db.exec(select(FeedPost).where(FeedPost.order_id == "O-1")))


async def test_posts_a_templated_message_once_even_when_retried(run_rule, rule_deps):
    params = {"text": "{{ customer.first_name }} ordered {{ order.number }}", "author_id": "emp-manager"}
    first = await run_rule("add_to_activity_stream", params, run_key="O-1/0/2")
    await run_rule("add_to_activity_stream", params, run_key="O-1/0/2")  # the same run, retried

    posts = await _posts(rule_deps.engine)
    assert [(p.text, p.author_id) for p in posts] == [("Ada ordered N-1", "emp-manager")]
    assert first.summary == "posted to the activity stream: Ada ordered N-1"


async def test_without_an_author_the_automation_posts(run_rule, rule_deps):
    await run_rule("add_to_activity_stream", {"text": "hello"})

    assert [(p.text, p.author_id) for p in await _posts(rule_deps.engine)] == [("hello", None)]


async def test_an_unknown_author_is_refused_and_nothing_is_posted(run_rule, rule_deps):
    with pytest.raises(ApplicationError) as refused:
        await run_rule("add_to_activity_stream", {"text": "hello", "author_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert await _posts(rule_deps.engine) == []
