"""Sending one message per rule run through an HTTP provider, shared by the SMS, robocall
and open-channel rules (a module starting with ``_`` is a helper, not a rule type). The
outbox (``_outbox.py``) sends it at most once; the request carries the ``run_key`` as its
idempotency key too, for providers that honour one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from activities.rules._outbox import recorded, send_once, unconfirmed
from activities.rules.base import RuleContext, refuse, shorten
from automation.rule_kinds._parts import AUTO, SMS_MAX_CHARS, SmsProviderName
from automation.rules import RuleResult
from store.database import session
from store.directory import customer_phones
from store.tables import SentMessage

SEPARATORS = re.compile(r"[\s().-]")

Send = Callable[[str, str, str], Awaitable[str]]
"""(recipient, body, idempotency key) -> the provider's message id."""


async def deliver(
    ctx: RuleContext,
    channel: str,
    recipient: str,
    body: str,
    send: Send,
    subject: str = "",
    find: Callable[[str, str], Awaitable[str | None]] | None = None,
) -> SentMessage:
    """Sends at most once per run; returns the outbox row (sent, or unconfirmed). ``find``
    (recipient, idempotency key) asks the provider whether it has the message, if it can be asked."""
    draft = SentMessage(
        run_key=ctx.run_key, order_id=ctx.order_id, channel=channel, recipient=recipient, subject=subject,
        body=body, message_id="",
    )  # fmt: skip
    row = await recorded(ctx, draft)
    # What was first recorded, not this attempt's rendering: the same request again.
    lookup = (lambda first: find(first.recipient, first.run_key)) if find is not None else None
    return await send_once(ctx, row, lambda first: send(first.recipient, first.body, ctx.run_key), lookup)


def dialable(number: str) -> str:
    """The number as providers take it (E.164): cards often hold ``+1 (555) 010-0``."""
    return SEPARATORS.sub("", number)


async def customer_phone(ctx: RuleContext, phone_type: str) -> str | None:
    """The customer's first phone of ``phone_type`` (``auto``: the first of any type)."""
    customer_id = ctx.values.get("customer", {}).get("id")
    if customer_id is None:
        return None
    async with session(ctx.deps.engine) as db:
        phones = await customer_phones(db, customer_id)
    chosen = [p for p in phones if phone_type in (AUTO, p.type) and dialable(p.number)]
    return dialable(chosen[0].number) if chosen else None


def no_phone(phone_type: str) -> RuleResult:
    of_type = "" if phone_type == AUTO else f" of type {phone_type!r}"
    return RuleResult(summary=f"not sent: the customer has no phone number{of_type}", effective=False)


async def sms_text(ctx: RuleContext, template: str) -> str:
    """The text after templating, refused when empty or longer than an SMS rule may send."""
    text = (await ctx.render(template)).strip()
    if not text:
        raise refuse("the SMS text is empty after templating")
    if len(text) > SMS_MAX_CHARS:
        raise refuse(f"the SMS text is {len(text)} characters after templating; at most {SMS_MAX_CHARS}")
    return text


async def send_sms_to(ctx: RuleContext, provider: SmsProviderName, phone: str, text: str) -> RuleResult:
    sms = ctx.deps.providers.sms(ctx.deps.settings, provider)
    row = await deliver(ctx, "sms", phone, text, sms.send)
    return unconfirmed(row, "SMS") or RuleResult(
        summary=f"SMS sent to {row.recipient} ({row.message_id}): {shorten(row.body)}"
    )
