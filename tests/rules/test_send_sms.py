from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.order import ContactPoint
from automation.pipeline import PipelineError, parse_pipeline
from config import Settings
from devserver import free_port
from providers import Providers
from providers.http_api import retry_after
from providers.mail import SmtpMailer
from providers.sms import TwilioSms
from providers.twilio import TwilioAccount
from store.database import session
from store.directory import save_customer
from store.tables import SentMessage
from tests.conftest import Mailbox, running_engine, seed
from tests.helpers import eventually, new_order
from tests.providers_server import ACCOUNT_SID, AUTH_TOKEN, ProvidersServer, outbox_row
from tests.rules.conftest import CUSTOMER, RunRule

PARAMS = {"text": "Order {{ order.number }}: your code is {{ variables.code }}"}


async def test_sends_to_the_first_phone_through_the_provider(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    result = await run_rule("send_sms", PARAMS, run_key="O-1/0/1", variables={"code": "X1"})

    [sms] = providers_server.delivered
    assert sms.fields == {"To": "+15550100", "From": "+15005550006", "Body": "Order N-1: your code is X1"}
    assert sms.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert (sms.authorized, sms.token, sms.content_type) == (True, "O-1/0/1", "application/x-www-form-urlencoded")
    assert result.summary == f"SMS sent to +15550100 ({sms.id}): Order N-1: your code is X1"
    row = await outbox_row(rule_deps.engine, "O-1/0/1")
    assert row is not None
    assert (row.channel, row.recipient, row.body, row.status, row.message_id) == (
        "sms", "+15550100", "Order N-1: your code is X1", "sent", sms.id,
    )  # fmt: skip


async def test_sends_to_the_phone_of_the_chosen_type(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    phones = [*CUSTOMER.phones, ContactPoint(type="work", value="+1 (555) 010-2")]
    async with session(rule_deps.engine) as db:
        await save_customer(db, CUSTOMER.model_copy(update={"phones": phones}))
        await db.commit()

    await run_rule("send_sms", {**PARAMS, "phone_type": "work"})
    assert [sms["To"] for sms in providers_server.of("sms")] == ["+15550102"]


async def test_no_phone_of_that_type_sends_nothing_and_says_why(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    result = await run_rule("send_sms", {**PARAMS, "phone_type": "home"}, run_key="O-1/0/2")
    assert not result.effective
    assert result.summary == "not sent: the customer has no phone number of type 'home'"
    assert providers_server.requests == []
    assert await outbox_row(rule_deps.engine, "O-1/0/2") is None


async def test_a_text_longer_than_200_characters_after_templating_is_refused(
    run_rule: RunRule, providers_server: ProvidersServer
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("send_sms", {"text": "{{ variables.long }}"}, variables={"long": "x" * 201})
    assert (refused.value.type, refused.value.non_retryable) == ("RuleRefused", True)
    assert refused.value.message == "the SMS text is 201 characters after templating; at most 200"
    assert providers_server.requests == []


def test_a_template_longer_than_200_characters_is_refused_at_pipeline_load() -> None:
    text = "x" * 201
    with pytest.raises(PipelineError) as refused:
        parse_pipeline(f"""
id: p
title: P
stages:
  - id: new
    title: New
    rules:
      - {{type: send_sms, params: {{text: "short"}}}}
      - {{type: send_sms, params: {{text: "{text}"}}}}
""")
    assert refused.value.problems == ["stages[0].rules[1].params.text: at most 200 characters"]


async def test_a_transient_failure_is_retried_after_the_providers_delay(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.fail_next(503, retry_after="7")
    with pytest.raises(ApplicationError) as failed:
        await run_rule("send_sms", PARAMS, run_key="O-1/0/3")
    assert (failed.value.type, failed.value.non_retryable) == ("ProviderUnavailable", False)
    assert failed.value.next_retry_delay == timedelta(seconds=7)
    assert "SMS provider unavailable (503) error 20500: try again later" in failed.value.message
    row = await outbox_row(rule_deps.engine, "O-1/0/3")
    assert row is not None and row.status == "pending"

    providers_server.fail_next(429)  # too many requests: transient too, at the policy's pace
    with pytest.raises(ApplicationError) as throttled:
        await run_rule("send_sms", PARAMS, run_key="O-1/0/3")
    assert (throttled.value.non_retryable, throttled.value.next_retry_delay) == (False, None)

    await run_rule("send_sms", PARAMS, run_key="O-1/0/3")  # the retry that gets through
    assert len(providers_server.requests) == 3
    [sms] = providers_server.delivered
    row = await outbox_row(rule_deps.engine, "O-1/0/3")
    assert row is not None and (row.status, row.message_id) == ("sent", sms.id)


async def test_an_unreachable_provider_is_a_transient_failure(providers_server: ProvidersServer) -> None:
    closed = TwilioAccount(f"http://127.0.0.1:{free_port()}", ACCOUNT_SID, AUTH_TOKEN)
    with pytest.raises(ApplicationError) as failed:
        await TwilioSms(providers_server.http, closed, "+15005550006").send("+15550100", "hi", "key-1")
    assert (failed.value.type, failed.value.non_retryable) == ("ProviderUnavailable", False)
    assert failed.value.message.startswith("SMS provider unreachable: ConnectError")


async def test_an_invalid_number_is_refused_for_good_and_recorded(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.refuse("+15550100")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("send_sms", PARAMS, run_key="O-1/0/4")
    assert (refused.value.type, refused.value.non_retryable) == ("ProviderRefused", True)
    assert refused.value.message == (
        "SMS provider refused (400) error 21211: The 'To' number +15550100 is not a valid phone number."
    )
    assert providers_server.delivered == []
    row = await outbox_row(rule_deps.engine, "O-1/0/4")
    assert row is not None and row.status == "refused"


async def test_wrong_credentials_are_a_permanent_refusal(
    rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    wrong = TwilioAccount(providers_server.url, ACCOUNT_SID, "not-the-token")
    with pytest.raises(ApplicationError) as refused:
        await TwilioSms(providers_server.http, wrong, "+15005550006").send("+15550100", "hi", "key-2")
    assert refused.value.non_retryable
    assert refused.value.message == "SMS provider refused (401) error 20003: Authentication Error - invalid username"


async def test_an_answer_lost_after_sending_is_unconfirmed_and_not_sent_again(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.lose_next_response()  # delivered, but the worker never learns it
    first = await run_rule("send_sms", PARAMS, run_key="O-1/0/5")
    retried = await run_rule("send_sms", PARAMS, run_key="O-1/0/5")

    assert "SMS to +15550100 unconfirmed (SMS provider did not answer: RemoteProtocolError" in first.summary
    assert retried == first
    assert [r.token for r in providers_server.requests] == ["O-1/0/5"]
    assert len(providers_server.delivered) == 1
    row = await outbox_row(rule_deps.engine, "O-1/0/5")
    assert row is not None and row.status == "unconfirmed"


async def _left(rule_deps: WorkerResources, status: str, claim: int | None) -> None:
    """The outbox row as an earlier attempt left it."""
    async with session(rule_deps.engine) as db:
        db.add(SentMessage(run_key="O-1/0/7", order_id="O-1", channel="sms", recipient="+15550100",
                           body="Order N-1 received", message_id="", status=status, claim=claim))  # fmt: skip
        await db.commit()


async def test_a_retry_that_finds_the_message_handed_over_does_not_send_it_again(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    """A worker died after the request left, before the answer was recorded: it may have gone."""
    await _left(rule_deps, "handing_over", claim=0)
    result = await run_rule("send_sms", PARAMS, run_key="O-1/0/7")
    assert result.summary == "SMS to +15550100 unconfirmed (the worker stopped while handing it over): not sent again"
    assert result.unconfirmed == 1
    assert providers_server.requests == []


async def test_a_retry_that_finds_the_message_claimed_but_not_handed_over_sends_it(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    """A worker died (or timed out) before the request left: nothing went out, so it is sent now, once."""
    await _left(rule_deps, "sending", claim=0)
    result = await run_rule("send_sms", PARAMS, run_key="O-1/0/7")
    assert result.summary.startswith("SMS sent to +15550100")
    assert [sms["Body"] for sms in providers_server.of("sms")] == ["Order N-1 received"]


async def test_a_row_an_older_engine_left_sending_is_unconfirmed(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    """It marked sending before the call (no claim): nobody can tell how far it got."""
    await _left(rule_deps, "sending", claim=None)
    result = await run_rule("send_sms", PARAMS, run_key="O-1/0/7")
    assert "unconfirmed" in result.summary and providers_server.requests == []


async def test_a_retry_after_recording_does_not_call_the_provider(
    run_rule: RunRule, providers_server: ProvidersServer
) -> None:
    first = await run_rule("send_sms", PARAMS, run_key="O-1/0/6")
    again = await run_rule("send_sms", PARAMS, run_key="O-1/0/6")
    assert len(providers_server.requests) == 1
    assert again.summary == first.summary


async def test_the_worker_retries_a_transient_failure_with_backoff(
    dev_env: WorkflowEnvironment, db_engine: AsyncEngine, smtp: Mailbox, providers_server: ProvidersServer
) -> None:
    """On the dev server: the provider answers 503 with Retry-After: 1, Temporal retries."""
    pipeline = parse_pipeline("""
id: sms-shop
title: SMS shop
stages:
  - id: new
    title: New
    rules:
      - {type: send_sms, params: {text: "Thanks for order {{ order.number }}"}}
  - {id: done, title: Done, final: success}
""")
    await seed(db_engine, pipeline)
    settings = Settings(smtp_port=smtp.port, **providers_server.settings())
    mailer, providers = SmtpMailer(host="127.0.0.1", port=smtp.port), Providers(http=providers_server.http)
    deps = WorkerResources(engine=db_engine, mailer=mailer, settings=settings, providers=providers)
    order = new_order("sms-shop")
    phones = [ContactPoint(type="mobile", value="+15550199")]
    assert order.customer is not None
    order = order.model_copy(update={"customer": order.customer.model_copy(update={"phones": phones})})
    providers_server.fail_next(503, retry_after="1")
    async with running_engine(dev_env, deps) as engine:
        await engine.orders.create_order(order)
        [sms] = await eventually(lambda: _delivered(providers_server))
        row = await eventually(lambda: _sent(db_engine, order.order_id))

    assert sms == {"To": "+15550199", "From": "+15005550006", "Body": f"Thanks for order {order.fields['number']}"}
    assert len(providers_server.requests) == 2  # the 503, then the retry a second later
    assert len({r.token for r in providers_server.requests}) == 1
    assert row.recipient == "+15550199"


async def _delivered(server: ProvidersServer) -> list[dict[str, str]] | None:
    return server.of("sms") or None


async def _sent(engine: AsyncEngine, order_id: str) -> SentMessage | None:
    async with session(engine) as db:
        query = select(SentMessage).where(SentMessage.order_id == order_id, SentMessage.status == "sent")
        return (await db.exec(query)).first()


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after("30", now) == timedelta(seconds=30)
    assert retry_after("Wed, 21 Oct 2026 07:28:45 GMT", now) == timedelta(seconds=45)
    assert retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now) == timedelta(0)
    assert retry_after("999999", now) == timedelta(hours=1)  # capped: asked again within the hour
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
