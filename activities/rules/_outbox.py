"""The outbox of the rules that send messages (a module starting with ``_`` is a helper,
not a rule type): one ``SentMessage`` row per rule run, keyed by its ``run_key``. A message
goes out at most once per rule run, and is not lost to a crash before it went out; its row
says how far it got:

* ``pending``: recorded before anything is sent (recipient, body, Message-ID); a retry
  sends what was first recorded, not a new rendering;
* ``sending``: claimed by one attempt of the rule (``claim``, its attempt number), not
  handed over yet: an attempt that finds it (its claimer died, or timed out) takes it
  over and sends it, and the one it took it from can no longer hand it over;
* ``handing_over``: committed at the provider's point of no return (before SMTP's DATA,
  before an HTTP request's body leaves, ``providers/delivery.py``);
* ``sent``: taken (with the provider's id); ``refused``: refused for good, not retried;
  ``failed``: the last attempt failed too; ``stopped``: its rule stopped (the order left
  the stage) before the message was handed over: not sent (a retry of the same run, after
  a time-out, still may);
* ``test``: a test order's message, recorded and shown (``starter.py messages --test``),
  never sent;
* ``unconfirmed``: the connection broke after the message was handed over, or an attempt
  found ``handing_over`` (a worker died just then) and the provider cannot be asked (where
  it can, the engine asks it: had it, ``sent``; had it not, sent again). It may have gone
  out, so it is not sent again: it is listed for an operator (``starter.py messages``,
  ``GET /messages``), who may resend it (``starter.py resend``), never the engine itself.

A rule stopped while a dead worker held its row gets no retry to finish it: the order then
runs ``settle_stopped_message``, which waits out any attempt still alive and settles the
row (``pending`` or ``sending``: stopped; ``handing_over``: unconfirmed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from email.utils import make_msgid
from typing import Any

from sqlmodel import col, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.rules.base import RuleContext, refuse
from automation.rules import RuleResult
from providers.delivery import DeliveryUnknown, on_hand_over
from store.columns import utcnow
from store.database import session
from store.tables import SentMessage

PENDING, SENDING, HANDING_OVER, SENT = "pending", "sending", "handing_over", "sent"
REFUSED, FAILED, UNCONFIRMED, STOPPED = "refused", "failed", "unconfirmed", "stopped"
TEST = "test"
"""A test order's message: recorded and shown, never handed to a provider."""
IN_HAND = (SENDING, HANDING_OVER)
"""An attempt holds the row: only it (or one that takes it over) moves it on."""

Send = Callable[[SentMessage], Awaitable[str]]
"""Sends the row's message; returns the provider's id for it."""
Lookup = Callable[[SentMessage], Awaitable[str | None]]
"""Asks the provider whether it has the row's message: its id, or None if it has not
(raises if it cannot tell)."""


class Superseded(Exception):
    """Another attempt has taken this message over: this one must not hand it over."""


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


async def send_once(ctx: RuleContext, row: SentMessage, send: Send, lookup: Lookup | None = None) -> SentMessage:
    """Sends ``row`` unless an earlier attempt got as far as handing it over; marks how it went.
    A test order's message is only recorded (``test``), and the rule goes on as if it went."""
    if ctx.input.test:
        await Outbox(ctx.deps.engine, _attempt(), ctx.final_attempt).record_test(row)
        return row
    return await Outbox(ctx.deps.engine, _attempt(), ctx.final_attempt).send(row, send, lookup)


def _attempt() -> int:
    return activity.info().attempt if activity.in_activity() else 1


class Outbox:
    """One attempt's sending of outbox rows: ``claim`` is its attempt number."""

    def __init__(self, engine: Any, claim: int, final_attempt: bool) -> None:
        self.engine, self.claim, self.final_attempt = engine, claim, final_attempt

    async def send(self, row: SentMessage, send: Send, lookup: Lookup | None) -> SentMessage:
        if not await self._claim(row):
            current = await self._current(row)
            if current.status != HANDING_OVER or not await self._asked(current, lookup):
                return await self._as_left(current)
            row = current  # the provider has it not: safe to send after all (claimed again)
        handed_over = False

        async def record_hand_over() -> None:
            nonlocal handed_over
            if not await self._move(row, SENDING, HANDING_OVER):
                raise Superseded(f"message {row.run_key} was taken over by a later attempt")
            handed_over = True

        try:
            with on_hand_over(record_hand_over):
                message_id = await send(row)
        except Superseded:
            raise
        except DeliveryUnknown as err:
            await asyncio.shield(self._mark(row, UNCONFIRMED, note=str(err)))
            return row
        except ApplicationError as err:  # the server or provider answered: it did not take it
            status = REFUSED if err.non_retryable else FAILED if self.final_attempt else PENDING
            await self._mark(row, status, note=err.message)
            raise
        except asyncio.CancelledError:  # the order left the stage, or a time-out
            status, note = (UNCONFIRMED, "cancelled while handing it over") if handed_over else (STOPPED, "")
            await asyncio.shield(self._mark(row, status, note=note))
            raise
        except Exception as err:
            if handed_over:
                await self._mark(row, UNCONFIRMED, note=f"{type(err).__name__} while handing it over: {err}")
                return row
            await self._mark(row, FAILED if self.final_attempt else PENDING, note=f"{type(err).__name__}: {err}")
            raise
        await asyncio.shield(self._mark(row, SENT, message_id=message_id))  # it went: say so, even if cancelled now
        return row

    async def record_test(self, row: SentMessage) -> None:
        await self._move(row, PENDING, TEST, anyone=True, note="a test order: recorded, not sent")

    async def _claim(self, row: SentMessage) -> bool:
        """Marks the row ``sending`` by this attempt: from ``pending``, ``failed`` or ``stopped``, or from
        an earlier attempt's ``sending`` (that attempt died, or timed out: it can no longer
        hand it over). A compare-and-set, so that no two attempts hand it over."""
        taken_over = (col(SentMessage.status) == SENDING) & (col(SentMessage.claim) < self.claim)
        claimable = col(SentMessage.status).in_([PENDING, FAILED, STOPPED]) | taken_over
        async with session(self.engine) as db:
            claimed = await db.exec(
                update(SentMessage)
                .where(col(SentMessage.run_key) == row.run_key, claimable)
                .values(status=SENDING, claim=self.claim)
            )
            await db.commit()
        if not claimed.rowcount:
            return False
        row.status, row.claim = SENDING, self.claim
        return True

    async def _current(self, row: SentMessage) -> SentMessage:
        async with session(self.engine) as db:
            return (await db.exec(select(SentMessage).where(SentMessage.run_key == row.run_key))).one()

    async def _asked(self, row: SentMessage, lookup: Lookup | None) -> bool:
        """A worker died as it handed the message over: asks the provider, if it can be asked.
        True (and the row claimed again) if the provider has it not: it may be sent."""
        if lookup is None:
            return False
        try:
            found = await lookup(row)
        except Exception as err:
            row.note = f"the worker stopped while handing it over, and the provider could not tell: {err}"
            return False
        if found is not None:
            await self._move(row, HANDING_OVER, SENT, message_id=found, sent_at=utcnow(),
                             note="the worker stopped while handing it over; the provider has it")  # fmt: skip
            return False
        return await self._move(row, HANDING_OVER, SENDING, claim=self.claim)

    async def _as_left(self, current: SentMessage) -> SentMessage:
        """The row as an earlier attempt left it: ``handing_over`` means nobody can tell whether it went."""
        if current.status == HANDING_OVER or (current.status == SENDING and current.claim is None):
            note = current.note or "the worker stopped while handing it over"  # (no claim: an older engine's row)
            await self._move(current, current.status, UNCONFIRMED, anyone=True, note=note)
        if current.status == SENDING:
            raise Superseded(f"message {current.run_key} is being sent by a later attempt")
        if current.status == REFUSED:
            raise refuse(current.note)
        return current

    async def _move(self, row: SentMessage, before: str, after: str, anyone: bool = False, **values: Any) -> bool:
        """Compare-and-set from ``before`` (claimed by this attempt, if ``sending``, unless
        ``anyone``) to ``after``."""
        condition = (col(SentMessage.run_key) == row.run_key) & (col(SentMessage.status) == before)
        if before == SENDING and not anyone:
            condition &= col(SentMessage.claim) == self.claim
        async with session(self.engine) as db:
            moved = await db.exec(update(SentMessage).where(condition).values(status=after, **values))
            await db.commit()
        if moved.rowcount:
            row.status = after
            for name, value in values.items():
                setattr(row, name, value)
        return bool(moved.rowcount)

    async def _mark(self, row: SentMessage, status: str, note: str = "", message_id: str | None = None) -> None:
        """This attempt's outcome for its claimed row (if another attempt took it over since, nothing)."""
        values: dict[str, Any] = {"note": note}
        if message_id is not None:
            values |= {"message_id": message_id, "sent_at": utcnow()}
        for before in (HANDING_OVER, SENDING):
            if await self._move(row, before, status, **values):
                return

    async def settle(self, run_key: str, patience: float, beat: Callable[[], None]) -> str | None:
        """The row of a rule that was stopped, settled: waits up to ``patience`` seconds for
        an attempt still alive to let it go (it hears of the stop at its next heartbeat),
        then settles what no attempt will now finish: ``handing_over`` is unconfirmed,
        ``sending`` or ``pending`` is stopped. Answers its status (None: no row)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            async with session(self.engine) as db:
                row = (await db.exec(select(SentMessage).where(SentMessage.run_key == run_key))).first()
            if row is None or row.status not in (PENDING, *IN_HAND):
                return None if row is None else row.status
            if loop.time() >= deadline:
                break
            beat()
            await asyncio.sleep(0.5)
        after, note = (UNCONFIRMED, "the worker stopped while handing it over") if row.status == HANDING_OVER else (
            STOPPED, "its rule stopped before it was handed over")  # fmt: skip
        await self._move(row, row.status, after, anyone=True, note=f"{note}; before: {row.note}" if row.note else note)
        return (await self._current(row)).status


def unconfirmed(row: SentMessage, what: str) -> RuleResult | None:
    """The rule's result for a message that may or may not have gone out; None if it was sent."""
    if row.status != UNCONFIRMED:
        return None
    return RuleResult(summary=f"{what} to {row.recipient} unconfirmed ({row.note}): not sent again", unconfirmed=1)
