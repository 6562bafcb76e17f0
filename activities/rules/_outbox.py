"""The outbox of the rules that send messages (a module starting with ``_`` is a helper,
not a rule type): one ``SentMessage`` row per rule run, keyed by its ``run_key``. A message
goes out at most once per rule run; its row says how far it got:

* ``pending``: recorded before anything is sent (recipient, body, Message-ID); a retry
  sends what was first recorded, not a new rendering;
* ``sending``: committed just before the mail server or provider is called;
* ``sent``: taken (with the provider's id); ``refused``: refused for good, not retried;
  ``failed``: the last attempt failed too;
* ``unconfirmed``: the connection broke after the message was handed over, or a retry
  found ``sending`` (the worker died mid-send). It may have gone out, so it is not sent
  again, and the rule says so: sending twice is worse than saying "unconfirmed".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from email.utils import make_msgid

from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import RuleContext
from automation.rules import RuleResult
from providers.delivery import DeliveryUnknown
from store.columns import utcnow
from store.database import session
from store.tables import SentMessage

PENDING, SENDING, SENT, REFUSED, FAILED, UNCONFIRMED = "pending", "sending", "sent", "refused", "failed", "unconfirmed"

Send = Callable[[SentMessage], Awaitable[str]]
"""Sends the row's message; returns the provider's id for it."""


def new_message_id(ctx: RuleContext) -> str:
    domain = ctx.deps.settings.mail_from.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return make_msgid(idstring=ctx.run_key.replace("/", "."), domain=domain)


def email_draft(ctx: RuleContext, recipient: str, subject: str, body: str, sender: str = "") -> SentMessage:
    """An e-mail to record: subject and body rendered (the subject on one line, as a header must be)."""
    return SentMessage(
        run_key=ctx.run_key,
        order_id=ctx.order_id,
        channel="email",
        recipient=recipient,
        sender=sender,
        subject=" ".join(ctx.render(subject).split()),
        body=ctx.render(body),
        message_id=new_message_id(ctx),
    )


async def recorded(ctx: RuleContext, draft: SentMessage) -> SentMessage:
    """The message as first recorded for this run (``draft``, recorded now, on the first attempt)."""
    await ctx.write_once(draft)
    async with session(ctx.deps.engine) as db:
        return (await db.exec(select(SentMessage).where(SentMessage.run_key == ctx.run_key))).one()


async def send_once(ctx: RuleContext, row: SentMessage, send: Send) -> SentMessage:
    """Sends ``row`` unless an earlier attempt got as far as handing it over; marks how it went."""
    if row.status == SENDING:
        await _mark(ctx, row, UNCONFIRMED, note="the worker stopped while sending it")
    if row.status in (SENT, UNCONFIRMED):
        return row
    await _mark(ctx, row, SENDING)
    try:
        message_id = await send(row)
    except DeliveryUnknown as err:
        await _mark(ctx, row, UNCONFIRMED, note=str(err))
        return row
    except ApplicationError as err:
        status = REFUSED if err.non_retryable else FAILED if ctx.final_attempt else PENDING
        await _mark(ctx, row, status, note=err.message)
        raise
    except asyncio.CancelledError:  # the order left the stage, or a time-out: it may have gone
        await asyncio.shield(_mark(ctx, row, UNCONFIRMED, note="cancelled while sending it"))
        raise
    except Exception as err:  # not a provider's answer: it did not go out
        await _mark(ctx, row, FAILED if ctx.final_attempt else PENDING, note=f"{type(err).__name__}: {err}")
        raise
    await _mark(ctx, row, SENT, message_id=message_id)
    return row


def unconfirmed(row: SentMessage, what: str) -> RuleResult | None:
    """The rule's result for a message that may or may not have gone out; None if it was sent."""
    if row.status != UNCONFIRMED:
        return None
    return RuleResult(summary=f"{what} to {row.recipient} unconfirmed ({row.note}): not sent again")


async def _mark(ctx: RuleContext, row: SentMessage, status: str, note: str = "", message_id: str | None = None) -> None:
    async with session(ctx.deps.engine) as db:
        row.status, row.note = status, note
        if message_id is not None:
            row.message_id, row.sent_at = message_id, utcnow()
        db.add(row)
        await db.commit()
        await db.refresh(row)
