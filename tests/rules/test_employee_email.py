from email.utils import parseaddr

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.registry import IMPLEMENTATIONS
from activities.rule_activities import rule_activity
from activities.rules.base import WorkerResources
from automation.rule_kinds import rule_kind
from automation.rules import RuleInput
from devserver import free_port
from providers.mail import SmtpMailer
from store.database import session
from store.tables import Employee, SentMessage
from tests.conftest import Mailbox, text_of
from tests.rules.conftest import RunRule

PARAMS = {"subject": "Order {{ order.number }} is paid", "body": "Please pack it for {{ customer.first_name }}."}


async def sent_rows(engine: AsyncEngine, run_key: str) -> list[SentMessage]:
    async with session(engine) as db:
        return list(await db.exec(select(SentMessage).where(SentMessage.run_key == run_key)))


async def test_e_mails_the_responsible_employee_over_smtp(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    result = await run_rule("employee_email", PARAMS, run_key="O-1/0/5")

    [message] = smtp.messages
    assert message["To"] == "Sam Sales <sam@example.com>"
    assert (message["From"], message["Subject"]) == ("Shop <shop@shop.example>", "Order N-1 is paid")
    assert text_of(message).strip() == "Please pack it for Ada."
    assert message.get_body(("html",)) is None  # not tracked: an employee's reading is no customer activity
    [row] = await sent_rows(rule_deps.engine, "O-1/0/5")
    assert (row.channel, row.recipient, row.status) == ("email", "sam@example.com", "sent")
    assert message["Message-ID"].strip() == row.message_id
    assert result.effective and result.events == []
    assert result.summary == "e-mail sent to Sam Sales <sam@example.com>: Order N-1 is paid"


async def test_e_mails_a_chosen_employee(run_rule: RunRule, smtp: Mailbox) -> None:
    await run_rule("employee_email", {**PARAMS, "employee_id": "emp-warehouse"})
    assert [parseaddr(m["To"])[1] for m in smtp.messages] == ["wanda@example.com"]


async def test_a_retry_after_sending_does_not_send_again(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    first = await run_rule("employee_email", PARAMS, run_key="O-1/0/5")
    retried = await run_rule("employee_email", PARAMS, run_key="O-1/0/5")

    assert retried == first
    assert len(smtp.messages) == 1
    assert len(await sent_rows(rule_deps.engine, "O-1/0/5")) == 1


async def test_a_retry_after_a_failed_send_sends_the_message_first_recorded(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    unreachable = WorkerResources(
        rule_deps.engine, SmtpMailer(host="127.0.0.1", port=free_port(), timeout=2), rule_deps.settings
    )
    rule_input = RuleInput(
        order_id="O-1", run_key="O-1/0/6", stage="new", rule_index=0, rule_type="employee_email", params=PARAMS,
        values={"order": {"id": "O-1", "number": "N-1", "customer_id": "cust-ada", "responsible_id": "emp-sales"}},
    )  # fmt: skip
    with pytest.raises(ApplicationError) as unreachable_error:
        await ActivityEnvironment().run(
            rule_activity(rule_kind("employee_email"), IMPLEMENTATIONS["employee_email"], unreachable), rule_input
        )
    assert (unreachable_error.value.type, unreachable_error.value.non_retryable) == ("MailUnavailable", False)
    [pending] = await sent_rows(rule_deps.engine, "O-1/0/6")
    assert pending.status == "pending" and smtp.messages == []

    await run_rule("employee_email", {**PARAMS, "subject": "changed since"}, run_key="O-1/0/6")

    [message] = smtp.messages
    assert (message["Subject"], message["Message-ID"].strip()) == ("Order N-1 is paid", pending.message_id)
    [row] = await sent_rows(rule_deps.engine, "O-1/0/6")
    assert row.status == "sent"


async def test_an_employee_without_e_mail_gets_nothing_and_the_rule_says_why(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    async with session(rule_deps.engine) as db:
        db.add(Employee(id="emp-driver", name="Dan Driver", phone="+15550199"))
        await db.commit()

    result = await run_rule("employee_email", {**PARAMS, "employee_id": "emp-driver"}, run_key="O-1/0/8")

    assert not result.effective
    assert result.summary == "not sent: Dan Driver has no e-mail address"
    assert smtp.messages == []
    assert await sent_rows(rule_deps.engine, "O-1/0/8") == []


async def test_an_unknown_employee_is_refused(run_rule: RunRule, smtp: Mailbox) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("employee_email", {**PARAMS, "employee_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert smtp.messages == []
