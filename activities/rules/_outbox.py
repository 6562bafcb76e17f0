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

from sqlmodel import col, select, update
from temporalio.exceptions import ApplicationError

from activities.rules.base import RuleContext, refuse
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


async def email_draft(ctx: RuleContext, recipient: str, subject: str, body: str, sender: str = "") -> SentMessage:
    """An e-mail to record: subject and body rendered (the subject on one line, as a header must be)."""
    return SentMessage(
        run_key=ctx.run_key,
        order_id=ctx.order_id,
        channel="email",
        recipient=recipient,
        sender=sender,
        subject=" ".join((await ctx.render(subject)).split()),
        body=await ctx.render(body),
        message_id=new_message_id(ctx),
    )


async def recorded(ctx: RuleContext, draft: SentMessage) -> SentMessage:
    """The message as first recorded for this run (``draft``, recorded now, on the first attempt)."""
    await ctx.write_once(draft)
    async with session(ctx.deps.engine) as db:
        return (await db.exec(select(SentMessage).where(SentMessage.run_key == ctx.run_key))).one()


async def send_once(ctx: RuleContext, row: SentMessage, send: Send) -> SentMessage:
    """Sends ``row`` unless an earlier attempt got as far as handing it over; marks how it went."""
    if not await _claim(ctx, row):  # an earlier attempt got as far as sending it, or further
        return await _as_left(ctx, row)
    try:
        message_id = await send(row)
    except DeliveryUnknown as err:
        await asyncio.shield(_mark(ctx, row, UNCONFIRMED, note=str(err)))
        return row
    except ApplicationError as err:
        status = REFUSED if err.non_retryable else FAILED if ctx.final_attempt else PENDING
        await _mark(ctx, row, status, note=err.message)
        raise
    except asyncio.CancelledError:  # the order left the stage, or a time-out: it may have gone
        await asyncio.shield(_mark(ctx, row, UNCONFIRMED, note="cancelled while sending it"))
        raise
    except Exception as err:  # before anything went out (providers say DeliveryUnknown after)
        await _mark(ctx, row, FAILED if ctx.final_attempt else PENDING, note=f"{type(err).__name__}: {err}")
        raise
    await asyncio.shield(_mark(ctx, row, SENT, message_id=message_id))  # it went: say so, even if cancelled now
    return row


async def _claim(ctx: RuleContext, row: SentMessage) -> bool:
    """Marks the row ``sending`` if no other attempt has: a compare-and-set, so that an
    attempt that timed out but still runs and its retry cannot both send."""
    async with session(ctx.deps.engine) as db:
        claimed = await db.exec(
            update(SentMessage)
            .where(col(SentMessage.run_key) == row.run_key, col(SentMessage.status).in_([PENDING, FAILED]))
            .values(status=SENDING)
        )
        await db.commit()
    if not claimed.rowcount:
        return False
    row.status = SENDING
    return True


async def _as_left(ctx: RuleContext, row: SentMessage) -> SentMessage:
    """The row as an earlier attempt left it; still ``sending`` means nobody can tell whether it went."""
    async with session(ctx.deps.engine) as db:
        current = (await db.exec(select(SentMessage).where(SentMessage.run_key == row.run_key))).one()
    if current.status == SENDING:
        await _mark(ctx, current, UNCONFIRMED, note="the worker stopped while sending it")
    if current.status == REFUSED:
        raise refuse(current.note)
    return current


def unconfirmed(row: SentMessage, what: str) -> RuleResult | None:
    """The rule's result for a message that may or may not have gone out; None if it was sent."""
    if row.status != UNCONFIRMED:
        return None
    return RuleResult(summary=f"{what} to {row.recipient} unconfirmed ({row.note}): not sent again")


async def _mark(ctx: RuleContext, row: SentMessage, status: str, note: str = "", message_id: str | None = None) -> None:
    """Writes the row's new state (a plain UPDATE: the row may have changed under this attempt)."""
    values: dict[str, object] = {"status": status, "note": note}
    if message_id is not None:
        values |= {"message_id": message_id, "sent_at": utcnow()}
    async with session(ctx.deps.engine) as db:
        await db.exec(update(SentMessage).where(col(SentMessage.run_key) == row.run_key).values(**values))
        await db.commit()
    for name, value in values.items():
        setattr(row, name, value)
