"""The core spec of this rule type; its activity is activities/rules/delete_order.py."""

from __future__ import annotations

from automation.effects import EndOrder
from automation.rules import RuleKind, RuleParams


class DeleteOrderParams(RuleParams):
    pass


KIND = RuleKind(
    name="delete_order",
    title="Delete order",
    description="deletes the order if it is unpaid (no shipment marked paid, order.paid not set), with its shipments, "
    "comments, documents, activities and tasks; its workflow ends",
    params=DeleteOrderParams,
    store_only=True,
    effect=EndOrder,
)
