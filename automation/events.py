"""Events that reach an order, and the catalog of their types.

One catalog serves events and triggers alike: a trigger of type ``payment`` fires on
events of type ``payment``. Each type names its data model (what the event carries),
its trigger parameters (what a trigger of that type may further require), and whether
it is customer activity (what ends a Wait rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationInfo,
    field_validator,
    model_validator,
)

from automation import limits
from automation.models import EdgeStrict, Id, Text, Url, check_plain_json, is_inside


class EventData(BaseModel):
    """What an event carries. Strict at the edge: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TriggerParams(EdgeStrict):
    """What a trigger of one type further requires of an event's data."""

    def matches(self, data: EventData) -> bool:
        """Whether this trigger's parameters accept the event's data."""
        return True


# --- data carried by each kind of event ---------------------------------------------


class NoData(EventData):
    pass


class ResponsibleChangedData(EventData):
    previous_id: Id | None = None
    responsible_id: Id


class EmailData(EventData):
    message_id: Text | None = None
    address: Text | None = Field(default=None, description="the customer's address")
    subject: Text | None = None


class EmailLinkClickedData(EventData):
    message_id: Text | None = None
    url: Url


class CallData(EventData):
    line: Id | None = Field(default=None, description="the telephony line")
    phone: Id | None = None


class FormData(EventData):
    form_id: Id
    fields: dict[str, Text] = Field(default_factory=dict)


class PaymentData(EventData):
    payment_id: Id | None = None
    amount: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


class ShipmentData(EventData):
    shipment_id: Id | None = None
    status: Id | None = None
    delivery_service: Id | None = None
    tracking_number: Id | None = None


class OrderCancelledData(EventData):
    reason: Text | None = None


class WebhookData(EventData):
    code: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


class VisitData(EventData):
    url: Url | None = None


class ChatMessageData(EventData):
    channel_id: Id
    text: Text = ""


class DocumentData(EventData):
    template_id: Id
    document_id: Id | None = None


# --- parameters a trigger may set ----------------------------------------------------


class NoParams(TriggerParams):
    pass


class LinkParams(TriggerParams):
    url: Url = Field(description="matches clicked links that start with it")

    def matches(self, data: EventData) -> bool:
        return isinstance(data, EmailLinkClickedData) and data.url.startswith(self.url)


class CallParams(TriggerParams):
    line: Id | None = Field(default=None, description="telephony line; empty = any")

    def matches(self, data: EventData) -> bool:
        return self.line is None or (isinstance(data, CallData) and data.line == self.line)


class FormParams(TriggerParams):
    form_id: Id | None = Field(default=None, description="which form; empty = any")

    def matches(self, data: EventData) -> bool:
        return self.form_id is None or (isinstance(data, FormData) and data.form_id == self.form_id)


class TrackingParams(TriggerParams):
    delivery_service: Id | None = Field(default=None, description="empty = any service")

    def matches(self, data: EventData) -> bool:
        if self.delivery_service is None:
            return True
        return isinstance(data, ShipmentData) and data.delivery_service == self.delivery_service


class ChatParams(TriggerParams):
    channel_id: Id | None = Field(default=None, description="open channel; empty = any")
    text: Text | None = Field(default=None, description="message contains it (any case)")

    def matches(self, data: EventData) -> bool:
        if not isinstance(data, ChatMessageData):
            return False
        if self.channel_id is not None and data.channel_id != self.channel_id:
            return False
        return self.text is None or self.text.casefold() in data.text.casefold()


class TemplateParams(TriggerParams):
    template_id: Id

    def matches(self, data: EventData) -> bool:
        return isinstance(data, DocumentData) and data.template_id == self.template_id


class WebhookParams(TriggerParams):
    code: str = Field(min_length=1, max_length=64, description="the trigger's short code")

    def matches(self, data: EventData) -> bool:
        return isinstance(data, WebhookData) and data.code == self.code


# --- the catalog ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventType:
    name: str
    title: str
    data: type[EventData]
    params: type[TriggerParams]
    customer_activity: bool


EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in [
        EventType("responsible_changed", "Responsible changed", ResponsibleChangedData, NoParams, False),
        EventType("email_received", "Incoming e-mail", EmailData, NoParams, True),
        EventType("email_sent", "E-mail sent", EmailData, NoParams, False),
        EventType("email_viewed", "E-mail viewed", EmailData, NoParams, True),
        EventType("email_link_clicked", "E-mail link clicked", EmailLinkClickedData, LinkParams, True),
        EventType("call_incoming", "Incoming call", CallData, CallParams, True),
        EventType("call_missed", "Missed call", CallData, CallParams, True),
        EventType("form_submitted", "CRM form submitted", FormData, FormParams, True),
        EventType("callback_requested", "Callback requested", FormData, FormParams, True),
        EventType("payment", "Payment", PaymentData, NoParams, False),
        EventType("delivery_approved", "Delivery approved", ShipmentData, NoParams, False),
        EventType("tracking_number_added", "Tracking number added", ShipmentData, TrackingParams, False),
        EventType("shipped", "Shipment", ShipmentData, NoParams, False),
        EventType("shipment_changed", "Shipment status updated", ShipmentData, NoParams, False),
        EventType("order_cancelled", "Order cancelled", OrderCancelledData, NoParams, False),
        EventType("webhook", "Webhook", WebhookData, WebhookParams, False),
        EventType("visit", "Visit", VisitData, NoParams, True),
        EventType("returning_visitor", "Returning visitor", VisitData, NoParams, True),
        EventType("chat_first_message", "First live-chat message", ChatMessageData, ChatParams, True),
        EventType("chat_message", "Every live-chat message", ChatMessageData, ChatParams, True),
        EventType("document_created", "Document created", DocumentData, TemplateParams, False),
        EventType("document_opened", "Document opened", DocumentData, TemplateParams, True),
    ]
}


def event_type(name: str) -> EventType:
    """The catalog entry for ``name``, or a ValueError that lists the known ones."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(EVENT_TYPES))
        raise ValueError(f"unknown event type {name!r}; known types: {known}") from None


class Event(BaseModel):
    """One thing that happened to an order (or to its customer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(min_length=1, max_length=200, description="unique per event; repeats are ignored")
    type: str = Field(description="an event type from the catalog")
    data: SerializeAsAny[EventData] = Field(default=None, validate_default=True)
    occurred_at: AwareDatetime = Field(description="when it happened, with a time zone")

    @field_validator("type")
    @classmethod
    def _known_type(cls, name: str) -> str:
        event_type(name)
        return name

    @field_validator("data", mode="before")
    @classmethod
    def _typed_data(cls, value: Any, info: ValidationInfo) -> EventData:
        name = info.data.get("type")
        if name is None:  # the type itself was refused; that error says it all
            return NoData()
        model = event_type(name).data
        if isinstance(value, EventData) and not isinstance(value, model):
            value = value.model_dump()
        return model.model_validate({} if value is None else value, context=info.context)

    @model_validator(mode="after")
    def _storable(self, info: ValidationInfo) -> Event:
        # Refused here, not later in the store or in Temporal.
        if not is_inside(info):
            check_plain_json(self.model_dump(), "the event", limits.EVENT_BYTES)
        return self

    @property
    def is_customer_activity(self) -> bool:
        return EVENT_TYPES[self.type].customer_activity

    def values(self) -> dict[str, Any]:
        """The event as the plain values that conditions and templates read."""
        return {"type": self.type, "occurred_at": self.occurred_at, **self.data.model_dump()}


def seen_key(event_id: str) -> str:
    """What an order remembers of an event id to ignore its repeats: the id, or for a long
    one a digest of it, so that the ids remembered weigh little in the order's state."""
    if len(event_id) <= 40:
        return event_id
    return "#" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def event_json_schema() -> dict[str, Any]:
    """The JSON Schema of an event, one variant per type: what a service in any language
    sends as the ``event`` signal or ``apply_event`` update."""
    variants = []
    for name, kind in sorted(EVENT_TYPES.items()):
        data = kind.data.model_json_schema()
        definitions = data.pop("$defs", {})
        variants.append(
            {
                "title": kind.title,
                "type": "object",
                "properties": {
                    "event_id": {"type": "string", "minLength": 1, "maxLength": 200},
                    "type": {"const": name},
                    "data": data,
                    "occurred_at": {"type": "string", "format": "date-time"},
                },
                # data may be left out only when none of its fields is required
                "required": ["event_id", "type", *(["data"] if data.get("required") else []), "occurred_at"],
                "additionalProperties": False,
                **({"$defs": definitions} if definitions else {}),
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Order event",
        "description": "Customer activity events (those that end a Wait): "
        + ", ".join(sorted(n for n, k in EVENT_TYPES.items() if k.customer_activity))
        + f". An event is at most {limits.EVENT_BYTES} bytes of JSON, nested at most {limits.JSON_DEPTH} deep;"
        " numbers are finite; text holds no NUL.",
        "oneOf": variants,
    }
