"""The core spec of this rule type; its activity is activities/rules/send_email.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import AUTO
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class SendEmailParams(RuleParams):
    subject: Template = Field(min_length=1, max_length=255)
    body: Template = Field(min_length=1, max_length=20000, description="plain text; order values allowed")
    address_type: str = Field(default=AUTO, description="work, home...; 'auto' = the first address")
    mailbox: str = Field(
        default=AUTO, description="a named mailbox of MAILBOXES; 'auto' = the one last used for this customer"
    )


KIND = RuleKind(
    raises=("email_sent",),
    group="customer_communication",
    name="send_email",
    title="Send e-mail",
    description="e-mails the customer (address of a type, or the first) from a mailbox; nothing without one",
    params=SendEmailParams,
    sends_messages=True,
)
