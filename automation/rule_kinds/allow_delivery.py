"""The core spec of this rule type; its activity is activities/rules/allow_delivery.py."""

from __future__ import annotations

from automation.rules import RuleKind, RuleParams


class AllowDeliveryParams(RuleParams):
    pass


KIND = RuleKind(
    raises=("delivery_approved", "shipment_changed"),
    name="allow_delivery",
    title="Allow delivery",
    description="marks delivery approved on every shipment of the order; fires Delivery approved for each",
    params=AllowDeliveryParams,
)
