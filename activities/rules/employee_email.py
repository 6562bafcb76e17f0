from email.message import EmailMessage
from email.utils import formataddr

from pydantic import Field

from activities.rules._outbox import email_draft, recorded, send_once, unconfirmed
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables import Employee, SentMessage


class EmployeeEmailParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who gets it; 'responsible' = the order's")
    subject: Template = Field(min_length=1, max_length=255)
    body: Template = Field(min_length=1, max_length=20000, description="plain text; order values allowed")


def _message(ctx: RuleContext, row: SentMessage, employee: Employee) -> EmailMessage:
    # Plain text, never tracked: an employee opening it is not the customer's activity.
    message = EmailMessage()
    message["From"], message["To"] = ctx.deps.settings.mail_from, formataddr((employee.name, row.recipient))
    message["Subject"], message["Message-ID"] = row.subject, row.message_id
    message.set_content(row.body)
    return message


async def employee_email(ctx: RuleContext, params: EmployeeEmailParams) -> RuleResult:
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


RULE = RuleType(
    kind="employee_email",
    title="Send e-mail to employee",
    description="e-mails an employee (the responsible by default) over SMTP; does nothing if they have no address",
    params=EmployeeEmailParams,
    run=employee_email,
    sends_messages=True,
)
