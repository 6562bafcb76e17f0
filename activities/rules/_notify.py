"""Notifying an employee, shared by the Control and Notification rules (a module starting
with ``_`` is a helper, not a rule type)."""

from __future__ import annotations

from activities.rules.base import RuleContext, shorten
from automation.rules import RuleResult
from store.tables import Notification


async def notify(ctx: RuleContext, employee_id: str, text: str, sender_id: str | None = None) -> RuleResult:
    """Notifies the employee ``employee_id`` names (an id or ``responsible``) with the
    template ``text``, shown as sent by ``sender_id`` (None: by the automation)."""
    employee = await ctx.employee(employee_id)
    sender = await ctx.employee(sender_id) if sender_id else None
    message = await ctx.render(text)
    await ctx.write_once(
        Notification(
            run_key=ctx.run_key,
            order_id=ctx.order_id,
            employee_id=employee.id,
            sender_id=sender.id if sender else None,
            text=message,
        )
    )
    return RuleResult(summary=f"notified {employee.name}: {shorten(message)}")
