from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._order_fields import update_order
from activities.rules._shipments import is_paid, mark_shipments, marked_summary
from activities.rules.base import RuleContext, once, refuse
from automation.events import PaymentData
from automation.rule_kinds.pay_order import PayOrderParams
from automation.rules import RaisedEvent, RuleResult

PAID = {"paid": True}
"""Set on the order, so that conditions (``order.paid``) and Delete order see it."""


def _payment(ctx: RuleContext) -> dict[str, Any]:
    """The Payment event's data: the order's total and currency (EUR when it has none)."""
    order = ctx.values.get("order", {})
    try:
        data = PaymentData(amount=order.get("total") or 0, currency=order.get("currency") or "EUR")
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise refuse(f"the order's total or currency cannot make a payment: {problems}") from None
    return data.model_dump()


async def run(ctx: RuleContext, params: PayOrderParams) -> RuleResult:
    payment = _payment(ctx)  # checked before anything is written

    async def act(db: AsyncSession) -> RuleResult:
        was_paid = await is_paid(db, ctx)
        marked = await mark_shipments(db, ctx, "paid")
        await update_order(db, ctx, lambda _current: PAID)
        if was_paid:  # one payment event per order: stragglers are only marked
            return RuleResult(
                summary=f"the order was already paid; {marked_summary(marked, 'paid')}",
                effective=bool(marked.shipments),
                order_changes=PAID,
            )
        amount = f"{payment['amount']:g} {payment['currency']}"
        return RuleResult(
            summary=f"paid {amount}; {marked_summary(marked, 'paid')}",
            order_changes=PAID,
            events=[RaisedEvent(type="payment", data=payment)],
        )

    return await once(ctx, act)
