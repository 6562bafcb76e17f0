from datetime import timedelta

import pytest
from sqlmodel import col, update
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import SentMessage
from tests.providers_server import ProvidersServer, outbox_row
from tests.rules.conftest import RunRule

PARAMS = {"text": "Hi {{ customer.first_name }}, order {{ order.number }} is packed"}
IN_CHANNEL = {"last_channel_id": "telegram:42"}


async def test_writes_in_the_channel_the_customer_last_wrote_in(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    result = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/1", order=IN_CHANNEL)

    [message] = providers_server.delivered
    assert (message.path, message.authorized, message.token) == ("/channels/telegram:42/messages", True, "O-1/0/1")
    assert message.fields == {
        "text": "Hi Ada, order N-1 is packed",
        "whisper": False,
        "idempotency_key": "O-1/0/1",
        "channel_id": "telegram:42",
    }
    assert result.summary == f"message in channel telegram:42 ({message.id}): Hi Ada, order N-1 is packed"
    row = await outbox_row(rule_deps.engine, "O-1/0/1")
    assert row is not None
    assert (row.channel, row.recipient, row.status, row.message_id) == ("chat", "telegram:42", "sent", message.id)


async def test_a_whisper_is_marked_for_employees_only(run_rule: RunRule, providers_server: ProvidersServer) -> None:
    params = {"text": "VIP customer: answer within the hour", "whisper": True}
    result = await run_rule("open_channel_message", params, order=IN_CHANNEL)
    [message] = providers_server.of("chat")
    assert message["whisper"] is True
    assert result.summary.startswith("whisper in channel telegram:42")


async def test_no_channel_yet_sends_nothing_and_says_why(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    result = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/2")
    assert not result.effective
    assert result.summary == "not sent: the customer has not written in an open channel yet"
    assert providers_server.requests == []
    assert await outbox_row(rule_deps.engine, "O-1/0/2") is None


async def test_a_throttled_message_is_retried_after_the_providers_delay(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.fail_next(429, retry_after="2")
    with pytest.raises(ApplicationError) as failed:
        await run_rule("open_channel_message", PARAMS, run_key="O-1/0/3", order=IN_CHANNEL)
    assert (failed.value.type, failed.value.non_retryable) == ("ProviderUnavailable", False)
    assert failed.value.next_retry_delay == timedelta(seconds=2)

    await run_rule("open_channel_message", PARAMS, run_key="O-1/0/3", order=IN_CHANNEL)
    assert len(providers_server.delivered) == 1


async def test_a_closed_channel_is_refused_for_good(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.refuse("telegram:42")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("open_channel_message", PARAMS, run_key="O-1/0/4", order=IN_CHANNEL)
    assert (refused.value.type, refused.value.non_retryable) == ("ProviderRefused", True)
    assert refused.value.message == "open-channel provider refused (404) channel telegram:42 is closed"
    row = await outbox_row(rule_deps.engine, "O-1/0/4")
    assert row is not None and row.status == "refused"


async def test_an_answer_lost_after_sending_is_unconfirmed_and_not_sent_again(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.lose_next_response()
    first = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/5", order=IN_CHANNEL)
    retried = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/5", order=IN_CHANNEL)

    assert (
        first.summary.startswith("message to ") and "unconfirmed (open-channel provider did not answer" in first.summary
    )
    assert retried == first
    assert len(providers_server.requests) == len(providers_server.delivered) == 1
    row = await outbox_row(rule_deps.engine, "O-1/0/5")
    assert row is not None and row.status == "unconfirmed"


async def _handed_over_and_lost(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    """The message was handed over, then the worker died before recording the answer (the
    row says ``handing_over``)."""
    await run_rule("open_channel_message", PARAMS, run_key="O-1/0/9", order=IN_CHANNEL)
    async with session(rule_deps.engine) as db:
        await db.exec(
            update(SentMessage).where(col(SentMessage.run_key) == "O-1/0/9").values(status="handing_over", claim=0)
        )
        await db.commit()


async def test_a_retry_asks_the_provider_and_records_a_message_it_has(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _handed_over_and_lost(run_rule, rule_deps)
    [message] = providers_server.delivered
    result = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/9", order=IN_CHANNEL)
    row = await outbox_row(rule_deps.engine, "O-1/0/9")
    assert row is not None and (row.status, row.message_id) == ("sent", message.id)
    assert "the provider has it" in row.note and result.unconfirmed == 0
    assert len(providers_server.delivered) == 1  # asked, not sent again


async def test_a_retry_asks_the_provider_and_sends_a_message_it_has_not(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _handed_over_and_lost(run_rule, rule_deps)
    providers_server.reset()  # the provider never got it
    result = await run_rule("open_channel_message", PARAMS, run_key="O-1/0/9", order=IN_CHANNEL)
    assert [m["text"] for m in providers_server.of("chat")] == ["Hi Ada, order N-1 is packed"]
    assert result.summary.startswith("message in channel telegram:42")
