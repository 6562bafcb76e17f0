"""An order as services describe it when they create it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from automation.models import check_plain_json

OrderId = str


def workflow_id(order_id: OrderId) -> str:
    return f"order-{order_id}"


class ContactPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, description="work, home, mobile... as in the customer card")
    value: str = Field(min_length=1)


class CustomerInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    first_name: str = ""
    last_name: str = ""
    company: str | None = None
    emails: list[ContactPoint] = Field(default_factory=list)
    phones: list[ContactPoint] = Field(default_factory=list)


class ShipmentInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    status: str = "new"
    delivery_service: str | None = None
    tracking_number: str | None = None


class NewOrder(BaseModel):
    """What a service gives to create an order."""

    model_config = ConfigDict(extra="forbid")
    order_id: OrderId = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", description="opaque id")
    pipeline_id: str = Field(min_length=1)
    customer: CustomerInfo | None = Field(default=None, description="saved to the store at start")
    responsible_id: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, description="number, total, currency...")
    shipments: list[ShipmentInfo] = Field(default_factory=list, description="saved to the store at start")

    @model_validator(mode="after")
    def _storable(self) -> NewOrder:
        check_plain_json(self.model_dump(), "the order")
        return self
