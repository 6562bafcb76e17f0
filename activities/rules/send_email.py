import html
import re
from email.message import EmailMessage

from sqlmodel import col, select

from activities.rules._outbox import email_draft, recorded, send_once, unconfirmed
from activities.rules.base import RuleContext, refuse
from automation import tracking
from automation.rule_kinds._parts import AUTO
from automation.rule_kinds.send_email import SendEmailParams
from automation.rules import RaisedEvent, RuleResult
from config import Settings
from store.database import session
from store.directory import customer_emails
from store.tables import CustomerEmail, SentMessage

LINK = re.compile(r"https?://[^\s<>\"']+")


async def _addresses(ctx: RuleContext) -> list[CustomerEmail]:
    customer_id = ctx.values.get("customer", {}).get("id")
    if customer_id is None:
        return []
    async with session(ctx.deps.engine) as db:
        return await customer_emails(db, customer_id)


async def _sender(ctx: RuleContext, mailbox: str, addresses: list[CustomerEmail]) -> str:
    """The named mailbox; or, for auto, the mailbox that last wrote to this customer."""
    settings = ctx.deps.settings
    if mailbox != AUTO:
        if mailbox not in settings.mailboxes:
            raise refuse(f"no mailbox {mailbox!r}; MAILBOXES has: {', '.join(sorted(settings.mailboxes)) or 'none'}")
        return settings.mailboxes[mailbox]
    async with session(ctx.deps.engine) as db:
        last = await db.exec(
            select(SentMessage.sender)
            .where(SentMessage.channel == "email", SentMessage.sender != "")
            .where(col(SentMessage.recipient).in_([a.address for a in addresses]))
            .order_by(col(SentMessage.created_at).desc())
        )
        return last.first() or settings.mail_from


def customer_message(settings: Settings, row: SentMessage) -> EmailMessage:
    """The e-mail of an outbox row: plain text, plus an HTML part with tracked links and an
    open pixel when tracking is on."""
    message = EmailMessage()
    message["From"], message["To"] = row.sender or settings.mail_from, row.recipient
    message["Subject"], message["Message-ID"] = row.subject, row.message_id
    if not settings.tracking_secret:
        message.set_content(row.body)
        return message

    def tracked(kind: tracking.Kind, link: str | None = None) -> str:
        if link is not None and tracking.is_tracked(settings.public_url, link):
            return link  # a document's link is tracked already
        mark = tracking.Tracked(kind=kind, order_id=row.order_id, ref=row.message_id, url=link)
        return tracking.url(settings.public_url, settings.tracking_secret, mark)

    message.set_content(LINK.sub(lambda m: tracked("click", m.group(0)), row.body))
    parts = LINK.split(row.body)
    links = LINK.findall(row.body)
    body = html.escape(parts[0])
    for link, after in zip(links, parts[1:], strict=True):
        body += f'<a href="{html.escape(tracked("click", link))}">{html.escape(link)}</a>{html.escape(after)}'
    pixel = f'<img src="{html.escape(tracked("open"))}" width="1" height="1" alt="">'
    message.add_alternative(f"<html><body>{body.replace(chr(10), '<br>')}{pixel}</body></html>", subtype="html")
    return message


async def run(ctx: RuleContext, params: SendEmailParams) -> RuleResult:
    addresses = await _addresses(ctx)
    chosen = [a.address for a in addresses if params.address_type in (AUTO, a.type)]
    if not chosen:
        of_type = "" if params.address_type == AUTO else f" of type {params.address_type!r}"
        return RuleResult(summary=f"not sent: the customer has no e-mail address{of_type}", effective=False)
    sender = await _sender(ctx, params.mailbox, addresses)
    row = await recorded(ctx, await email_draft(ctx, chosen[0], params.subject, params.body, sender))

    async def send(first: SentMessage) -> str:
        await ctx.deps.mailer.send(customer_message(ctx.deps.settings, first))
        return first.message_id

    row = await send_once(ctx, row, send)
    if (unknown := unconfirmed(row, "e-mail")) is not None:
        return unknown  # no E-mail sent event: it may not have gone out
    sent = RaisedEvent(
        type="email_sent", data={"message_id": row.message_id, "address": row.recipient, "subject": row.subject}
    )
    return RuleResult(summary=f"e-mail sent to {row.recipient}: {row.subject}", events=[sent])
