"""The core spec of this rule type; its activity is activities/rules/edit_shipments.py."""

from __future__ import annotations

from pydantic import Field, model_validator

from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class EditShipmentsParams(RuleParams):
    delivery_service: str | None = Field(
        default=None, min_length=1, max_length=100, description="the delivery service; empty = unchanged"
    )
    tracking_number: Template | None = Field(
        default=None, min_length=1, max_length=200, description="the tracking number; order values allowed"
    )

    @model_validator(mode="after")
    def _something_to_set(self) -> EditShipmentsParams:
        if self.delivery_service is None and self.tracking_number is None:
            raise ValueError("set delivery_service, tracking_number or both")
        return self


KIND = RuleKind(
    raises=("tracking_number_added", "shipment_changed"),
    name="edit_shipments",
    title="Edit shipments",
    description="sets the delivery service and/or tracking number of every shipment of the order; "
    "fires Shipment status updated (and Tracking number added)",
    params=EditShipmentsParams,
    store_only=True,
)
