import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Comment
from tests.rules.conftest import RunRule


async def test_adds_a_templated_comment_once_even_when_retried(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"text": "Order {{ order.number }} for {{ customer.first_name }}", "author_id": "emp-manager"}
    first = await run_rule("add_comment", params, run_key="O-1/0/0")
    await run_rule("add_comment", params, run_key="O-1/0/0")  # the same run, retried

    async with session(rule_deps.engine) as db:
        comments = list(await db.exec(select(Comment).where(Comment.order_id == "O-1")))
    assert [(c.text, c.author_id) for c in comments] == [("Order N-1 for Ada", "emp-manager")]
    assert first.summary == "comment added: Order N-1 for Ada"


async def test_a_template_that_cannot_render_fails_the_rule_without_retrying(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("add_comment", {"text": "{{ order.total + 'EUR' }}"}, order={"total": 5})
    assert refused.value.non_retryable
    assert "template cannot be rendered" in refused.value.message
