import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation import tracking
from store.database import session
from store.tables import SentMessage
from tests.conftest import Mailbox, text_of
from tests.rules.conftest import RunRule

PARAMS = {"subject": "Order {{ order.number }}", "body": "Hello {{ customer.first_name }}, {{ variables.code }}"}


async def test_sends_to_the_first_address_over_smtp(run_rule: RunRule, smtp: Mailbox) -> None:
    result = await run_rule("send_email", PARAMS, variables={"code": "X1"})

    [message] = smtp.messages
    assert (message["To"], message["Subject"]) == ("ada@home.example", "Order N-1")
    assert message["From"] == "Shop <shop@shop.example>"
    assert text_of(message).strip() == "Hello Ada, X1"
    assert result.summary == "e-mail sent to ada@home.example: Order N-1"


async def test_sends_to_the_address_of_the_chosen_type(run_rule: RunRule, smtp: Mailbox) -> None:
    await run_rule("send_email", {**PARAMS, "address_type": "work"})
    assert [m["To"] for m in smtp.messages] == ["ada@work.example"]


async def test_no_address_of_that_type_sends_nothing_and_says_why(run_rule: RunRule, smtp: Mailbox) -> None:
    result = await run_rule("send_email", {**PARAMS, "address_type": "mailing"})
    assert not result.effective
    assert result.summary == "not sent: the customer has no e-mail address of type 'mailing'"
    assert smtp.messages == []


async def test_a_retry_after_sending_does_not_send_again(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    await run_rule("send_email", PARAMS, run_key="O-1/0/7")
    await run_rule("send_email", PARAMS, run_key="O-1/0/7")

    assert len(smtp.messages) == 1
    async with session(rule_deps.engine) as db:
        [row] = list(await db.exec(select(SentMessage).where(SentMessage.run_key == "O-1/0/7")))
    assert row.status == "sent"
    assert smtp.messages[0]["Message-ID"].strip() == row.message_id


async def test_links_are_tracked_and_an_open_pixel_is_added(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    body = "Pay at https://shop.example/pay/N-1 today."
    result = await run_rule("send_email", {"subject": "Pay", "body": body})

    [message] = smtp.messages
    secret, base = rule_deps.settings.tracking_secret, rule_deps.settings.public_url
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    tokens = [part.split('"')[0] for part in html.split(f"{base}/t/")[1:]]
    found = [tracking.verify(secret, token.split("/", 1)[1]) for token in tokens]
    message_id = message["Message-ID"].strip()
    assert found == [
        tracking.Tracked(kind="click", order_id="O-1", ref=message_id, url="https://shop.example/pay/N-1"),
        tracking.Tracked(kind="open", order_id="O-1", ref=message_id),
    ]
    assert ">https://shop.example/pay/N-1</a> today." in html
    assert f"{base}/t/click/" in text_of(message)
    assert [(e.type, e.data["message_id"]) for e in result.events] == [("email_sent", message_id)]


async def test_a_named_mailbox_sends_and_auto_then_keeps_to_it(run_rule: RunRule, smtp: Mailbox) -> None:
    await run_rule("send_email", PARAMS)  # nothing sent to Ada before: the default sender
    await run_rule("send_email", {**PARAMS, "mailbox": "sales"})
    await run_rule("send_email", {**PARAMS, "mailbox": "auto"})  # the mailbox last used for her

    assert [m["From"] for m in smtp.messages] == [
        "Shop <shop@shop.example>", "Sales <sales@shop.example>", "Sales <sales@shop.example>"
    ]  # fmt: skip


async def test_an_unknown_mailbox_is_refused(run_rule: RunRule, smtp: Mailbox) -> None:
    with pytest.raises(ApplicationError, match="no mailbox 'support'; MAILBOXES has: sales") as refused:
        await run_rule("send_email", {**PARAMS, "mailbox": "support"})
    assert refused.value.non_retryable
    assert smtp.messages == []


async def test_a_recipient_the_server_refuses_for_good_is_not_retried(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    smtp.refusals["ada@home.example"] = "550 5.1.1 user unknown"
    with pytest.raises(ApplicationError) as refused:
        await run_rule("send_email", PARAMS, run_key="O-1/0/8")
    assert (refused.value.type, refused.value.non_retryable) == ("MailRefused", True)
    assert "ada@home.example: 5.1.1 user unknown" in refused.value.message
    row = await _row(rule_deps, "O-1/0/8")
    assert (row.status, row.note) == ("refused", refused.value.message)
    assert smtp.messages == []


async def test_a_recipient_refused_for_now_is_retried_and_then_sent(
    run_rule: RunRule, rule_deps: WorkerResources, smtp: Mailbox
) -> None:
    smtp.refusals["ada@home.example"] = "451 4.3.0 try again later"
    with pytest.raises(ApplicationError) as deferred:
        await run_rule("send_email", PARAMS, run_key="O-1/0/9")
    assert (deferred.value.type, deferred.value.non_retryable) == ("MailUnavailable", False)
    assert (await _row(rule_deps, "O-1/0/9")).status == "pending"

    smtp.refusals.clear()
    await run_rule("send_email", PARAMS, run_key="O-1/0/9")
    assert [m["To"] for m in smtp.messages] == ["ada@home.example"]
    assert (await _row(rule_deps, "O-1/0/9")).status == "sent"


async def test_a_subject_that_renders_on_several_lines_is_sent_on_one(run_rule: RunRule, smtp: Mailbox) -> None:
    await run_rule("send_email", {**PARAMS, "subject": "Order {{ variables.code }}"}, variables={"code": "A\nB"})
    assert smtp.messages[0]["Subject"] == "Order A B"


async def _row(rule_deps: WorkerResources, run_key: str) -> SentMessage:
    async with session(rule_deps.engine) as db:
        return (await db.exec(select(SentMessage).where(SentMessage.run_key == run_key))).one()
