"""The outbox of the rules that send messages (a module starting with ``_`` is a helper,
not a rule type): one ``SentMessage`` row per rule run, keyed by its ``run_key``, written
before sending and marked sent after. A retry finds the row: after the mark it sends
nothing; before it (a crash in between) it re-sends the very message first recorded, with
the same Message-ID, so that mail clients show it once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import make_msgid

from sqlmodel import select

from activities.rules.base import RuleContext
from store.columns import utcnow
from store.database import session
from store.tables import SentMessage


def new_message_id(ctx: RuleContext) -> str:
    domain = ctx.deps.settings.mail_from.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return make_msgid(idstring=ctx.run_key.replace("/", "."), domain=domain)


async def email_outbox_row(ctx: RuleContext, recipient: str, subject: str, body: str, sender: str = "") -> SentMessage:
    """The e-mail as first recorded for this run (recorded now if this is the first attempt)."""
    draft = SentMessage(
        run_key=ctx.run_key,
        order_id=ctx.order_id,
        channel="email",
        recipient=recipient,
        sender=sender,
        subject=subject,
        body=body,
        message_id=new_message_id(ctx),
    )
    await ctx.write_once(draft)
    async with session(ctx.deps.engine) as db:
        return (await db.exec(select(SentMessage).where(SentMessage.run_key == ctx.run_key))).one()


async def send_once(ctx: RuleContext, row: SentMessage, send: Callable[[], Awaitable[None]]) -> None:
    """Calls ``send`` unless the row is marked sent, then marks it."""
    if row.status == "sent":
        return
    await send()
    async with session(ctx.deps.engine) as db:
        row.status, row.sent_at = "sent", utcnow()
        db.add(row)
        await db.commit()
