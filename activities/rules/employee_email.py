from email.message import EmailMessage
from email.utils import formataddr

from activities.rules._outbox import email_draft, recorded, send_once, unconfirmed
from activities.rules.base import RuleContext
from automation.rule_kinds.employee_email import EmployeeEmailParams
from automation.rules import RuleResult
from store.tables import Employee, SentMessage


def _message(ctx: RuleContext, row: SentMessage, employee: Employee) -> EmailMessage:
    # Plain text, never tracked: an employee opening it is not the customer's activity.
    message = EmailMessage()
    message["From"], message["To"] = ctx.deps.settings.mail_from, formataddr((employee.name, row.recipient))
    message["Subject"], message["Message-ID"] = row.subject, row.message_id
    message.set_content(row.body)
    return message


async def run(ctx: RuleContext, params: EmployeeEmailParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    if not employee.email:
        return RuleResult(summary=f"not sent: {employee.name} has no e-mail address", effective=False)
    row = await recorded(ctx, await email_draft(ctx, employee.email, params.subject, params.body))

    async def send(first: SentMessage) -> str:
        await ctx.deps.mailer.send(_message(ctx, first, employee))
        return first.message_id

    row = await send_once(ctx, row, send)
    summary = f"e-mail sent to {employee.name} <{row.recipient}>: {row.subject}"
    return unconfirmed(row, "e-mail") or RuleResult(summary=summary)
