import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation.pipeline import PipelineError, parse_pipeline
from store.database import session
from store.tables import Employee
from tests.providers_server import ProvidersServer, outbox_row
from tests.rules.conftest import RunRule

PARAMS = {"text": "Order {{ order.number }} of {{ customer.name }} needs you"}


async def _give_phone(engine: AsyncEngine, employee_id: str, phone: str) -> None:
    async with session(engine) as db:
        employee = await db.get(Employee, employee_id)
        assert employee is not None
        employee.phone = phone
        db.add(employee)
        await db.commit()


async def test_texts_the_responsible_employee(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _give_phone(rule_deps.engine, "emp-sales", "+1 555 0111")
    result = await run_rule("employee_sms", PARAMS, run_key="O-1/0/1")

    [sms] = providers_server.delivered
    assert sms.fields == {"To": "+15550111", "From": "+15005550006", "Body": "Order N-1 of Ada Lovelace needs you"}
    assert (sms.authorized, sms.token) == (True, "O-1/0/1")
    assert result.summary == f"SMS sent to +15550111 ({sms.id}): Order N-1 of Ada Lovelace needs you"
    row = await outbox_row(rule_deps.engine, "O-1/0/1")
    assert row is not None and (row.channel, row.recipient, row.status) == ("sms", "+15550111", "sent")


async def test_texts_the_employee_named(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _give_phone(rule_deps.engine, "emp-warehouse", "+15550122")
    await run_rule("employee_sms", {**PARAMS, "employee_id": "emp-warehouse"})
    assert [sms["To"] for sms in providers_server.of("sms")] == ["+15550122"]


async def test_an_employee_without_a_phone_gets_nothing_and_the_summary_says_why(
    run_rule: RunRule, providers_server: ProvidersServer
) -> None:
    result = await run_rule("employee_sms", {**PARAMS, "employee_id": "emp-manager"})
    assert not result.effective
    assert result.summary == "not sent: Maria Manager has no phone number"
    assert providers_server.requests == []


async def test_an_unknown_employee_is_refused(run_rule: RunRule, providers_server: ProvidersServer) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("employee_sms", {**PARAMS, "employee_id": "emp-nobody"})
    assert (refused.value.type, refused.value.message) == ("RuleRefused", "no employee with id 'emp-nobody'")


async def test_a_text_longer_than_200_characters_is_refused(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _give_phone(rule_deps.engine, "emp-sales", "+15550111")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("employee_sms", {"text": "{{ variables.long }}"}, variables={"long": "y" * 250})
    assert refused.value.message == "the SMS text is 250 characters after templating; at most 200"
    assert providers_server.requests == []
    with pytest.raises(PipelineError) as at_load:
        parse_pipeline(
            "{id: p, title: P, stages: [{id: new, title: New, rules: [{type: employee_sms, params: {text: '"
            + "y" * 201
            + "'}}]}]}"
        )
    assert at_load.value.problems == ["stages[0].rules[0].params.text: at most 200 characters"]


async def test_transient_then_permanent_failures(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _give_phone(rule_deps.engine, "emp-sales", "+15550111")
    providers_server.fail_next(500)
    with pytest.raises(ApplicationError) as failed:
        await run_rule("employee_sms", PARAMS, run_key="O-1/0/2")
    assert not failed.value.non_retryable
    await run_rule("employee_sms", PARAMS, run_key="O-1/0/2")
    assert len(providers_server.delivered) == 1

    providers_server.refuse("+15550111")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("employee_sms", PARAMS, run_key="O-1/0/3")
    assert (refused.value.type, refused.value.non_retryable) == ("ProviderRefused", True)
    assert "error 21211" in refused.value.message


async def test_an_answer_lost_after_sending_is_unconfirmed_and_not_sent_again(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    await _give_phone(rule_deps.engine, "emp-sales", "+15550111")
    providers_server.lose_next_response()
    first = await run_rule("employee_sms", PARAMS, run_key="O-1/0/4")
    retried = await run_rule("employee_sms", PARAMS, run_key="O-1/0/4")

    assert first.summary.startswith("SMS to +15550111 unconfirmed (SMS provider did not answer: RemoteProtocolError")
    assert first.summary.endswith("): not sent again")
    assert retried == first
    assert len(providers_server.requests) == len(providers_server.delivered) == 1
    row = await outbox_row(rule_deps.engine, "O-1/0/4")
    assert row is not None and row.status == "unconfirmed"
