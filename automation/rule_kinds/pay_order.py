"""The core spec of this rule type; its activity is activities/rules/pay_order.py."""

from __future__ import annotations

from automation.rules import RuleKind, RuleParams


class PayOrderParams(RuleParams):
    pass


KIND = RuleKind(
    raises=("payment",),
    name="pay_order",
    title="Pay order",
    description="marks the order and every shipment of it paid; fires Payment (the order's total and currency)",
    params=PayOrderParams,
    store_only=True,
)
