"""The core spec of this rule type; its activity is activities/rules/set_shipment_status.py."""

from __future__ import annotations

from pydantic import Field

from automation.rules import RuleKind, RuleParams


class SetShipmentStatusParams(RuleParams):
    status: str = Field(min_length=1, max_length=50, description="e.g. packed, shipped, delivered")


KIND = RuleKind(
    raises=("shipment_changed", "shipped"),
    name="set_shipment_status",
    title="Set shipment status",
    description="sets the status of every shipment of the order; fires Shipment status updated (and Shipment)",
    params=SetShipmentStatusParams,
    store_only=True,
)
