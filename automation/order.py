"""An order as services describe it when they create it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, model_validator

from automation import limits
from automation.models import SLUG_PATTERN, Contact, LooseId, Name, Within, check_plain_json, is_inside

OrderId = Annotated[
    str, StringConstraints(min_length=1, max_length=limits.ORDER_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]
"""Opaque, and safe in a workflow id, a URL and a search attribute."""


def workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


class ContactPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Annotated[str, StringConstraints(min_length=1), Within(40, printable=True)] = Field(
        description="work, home, mobile... as in the customer card"
    )
    value: Contact


class CustomerInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(min_length=1, max_length=limits.ID_CHARS), Within(limits.ID_CHARS, True)]
    first_name: Name = ""
    last_name: Name = ""
    company: Name | None = None
    emails: Annotated[list[ContactPoint], Within(limits.CONTACTS)] = Field(default_factory=list)
    phones: Annotated[list[ContactPoint], Within(limits.CONTACTS)] = Field(default_factory=list)


class ShipmentInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(min_length=1, max_length=limits.ID_CHARS), Within(limits.ID_CHARS, True)]
    status: Annotated[str, Within(50, printable=True)] = "new"
    delivery_service: LooseId | None = None
    tracking_number: LooseId | None = None


class NewOrder(BaseModel):
    """What a service gives to create an order."""

    model_config = ConfigDict(extra="forbid")
    order_id: OrderId = Field(description="opaque id: letters, digits, _ . : -")
    pipeline_id: Annotated[str, StringConstraints(min_length=1), Within(limits.SLUG_CHARS, pattern=SLUG_PATTERN)] = (
        Field(description="a loaded pipeline's id")
    )
    customer: CustomerInfo | None = Field(default=None, description="saved to the store at start")
    responsible_id: LooseId | None = None
    fields: dict[str, Any] = Field(default_factory=dict, description="number, total, currency...")
    shipments: Annotated[list[ShipmentInfo], Within(limits.SHIPMENTS)] = Field(
        default_factory=list, description="saved to the store at start"
    )
    test: bool = Field(
        default=False,
        description="a test order: its messages are recorded, never sent; its pauses can be skipped; it keeps a "
        "test log; listings and counts leave it out",
    )

    @model_validator(mode="after")
    def _storable(self, info: ValidationInfo) -> NewOrder:
        if not is_inside(info):
            check_plain_json(self.model_dump(), "the order", limits.ORDER_BYTES)
        return self
