"""The core spec of this rule type; its activity is activities/rules/ship_order.py."""

from __future__ import annotations

from automation.rules import RuleKind, RuleParams


class ShipOrderParams(RuleParams):
    pass


KIND = RuleKind(
    raises=("shipped", "shipment_changed"),
    name="ship_order",
    title="Ship order",
    description="marks every shipment of the order shipped (status shipped); fires Shipment for each",
    params=ShipOrderParams,
)
