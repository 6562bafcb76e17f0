"""Resending a message whose fate is unknown (``unconfirmed``), on an operator's explicit
decision: the engine never does it by itself, since the message may have gone out. The
order's workflow runs it (``resend_message`` update), so that its timeline says who asked
and how it went; the outbox sends it at most once more."""

from __future__ import annotations

from email.message import EmailMessage

from sqlmodel import select
from temporalio import activity

from activities.rules._outbox import PENDING, UNCONFIRMED, Outbox, Send
from activities.rules.base import WorkerResources, refuse
from activities.rules.send_email import customer_message
from automation.contracts import RESEND_MESSAGE, SETTLE_PATIENCE, SETTLE_STOPPED_MESSAGE, ResendInput, ResendResult
from store.database import session
from store.tables import SentMessage


def _plain(deps: WorkerResources, row: SentMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = deps.settings.mail_from, row.recipient
    message["Subject"], message["Message-ID"] = row.subject, row.message_id
    message.set_content(row.body)
    return message


class MessageActivities:
    def __init__(self, deps: WorkerResources) -> None:
        self._deps = deps

    def _sender(self, row: SentMessage, key: str) -> Send:
        """How the row's message goes out again, by its channel."""
        deps, settings = self._deps, self._deps.settings

        async def email(row: SentMessage) -> str:
            # A customer's e-mail has its mailbox as sender (and is tracked); an employee's has none.
            await deps.mailer.send(customer_message(settings, row) if row.sender else _plain(deps, row))
            return row.message_id

        async def sms(row: SentMessage) -> str:
            return await deps.providers.sms(settings).send(row.recipient, row.body, key)

        async def call(row: SentMessage) -> str:
            line = row.sender or row.subject.removeprefix("line ")
            return await deps.providers.voice(settings).call(row.recipient, line, row.body, key)

        async def chat(row: SentMessage) -> str:
            return await deps.providers.chat(settings).send(row.recipient, row.body, row.subject == "whisper", key)

        senders: dict[str, Send] = {"email": email, "sms": sms, "call": call, "chat": chat}
        if row.channel not in senders:
            raise refuse(f"message {row.run_key} went by {row.channel!r}, which cannot be resent")
        return senders[row.channel]

    @activity.defn(name=SETTLE_STOPPED_MESSAGE)
    async def settle_stopped_message(self, run_key: str) -> str | None:
        """The outbox row of a rule stopped while it ran, once settled: its status (None: no row)."""
        outbox = Outbox(self._deps.engine, activity.info().attempt, final_attempt=False)
        return await outbox.settle(run_key, SETTLE_PATIENCE.total_seconds(), activity.heartbeat)

    @activity.defn(name=RESEND_MESSAGE)
    async def resend_message(self, input: ResendInput) -> ResendResult:
        attempt = activity.info().attempt
        async with session(self._deps.engine) as db:
            row = (await db.exec(select(SentMessage).where(SentMessage.run_key == input.run_key))).first()
            if row is None:
                raise refuse(f"no message {input.run_key!r}")
            if attempt == 1:  # later attempts go on from where the first left the row
                if row.status != UNCONFIRMED:
                    raise refuse(f"message {input.run_key} is {row.status}: only an unconfirmed message is resent")
                row.status, row.claim, row.note = PENDING, 0, f"resend asked by {input.by}"
                db.add(row)
                await db.commit()
        outbox = Outbox(self._deps.engine, attempt, final_attempt=False)
        row = await outbox.send(row, self._sender(row, input.key), lookup=None)
        summary = f"{row.channel} to {row.recipient} {row.status}" + (f" ({row.note})" if row.note else "")
        return ResendResult(status=row.status, summary=summary)
