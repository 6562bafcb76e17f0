"""Events that reach an order, and the catalog of their types.

One catalog serves events and triggers alike: a trigger of type ``payment`` fires on
events of type ``payment``. Each type names its data model (what the event carries),
its trigger parameters (what a trigger of that type may further require), and whether
it is customer activity (what ends a Wait rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from automation import limits
from automation.errors import describe
from automation.models import (
    INSIDE,
    Id,
    LooseId,
    StrictFromOutside,
    Text,
    Url,
    Within,
    check_json_as_before_limits,
    check_plain_json,
    is_inside,
)


class EventData(BaseModel):
    """What an event carries. Strict at the edge: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TriggerParams(StrictFromOutside):
    """What a trigger of one type further requires of an event's data."""

    def matches(self, data: EventData) -> bool:
        """Whether this trigger's parameters accept the event's data."""
        return True


# --- data carried by each kind of event ---------------------------------------------


class NoData(EventData):
    pass


class ResponsibleChangedData(EventData):
    previous_id: LooseId | None = None
    responsible_id: LooseId


class EmailData(EventData):
    message_id: Text | None = None
    address: Text | None = Field(default=None, description="the customer's address")
    subject: Text | None = None


class EmailLinkClickedData(EventData):
    message_id: Text | None = None
    url: Url = Field(min_length=1)


class CallData(EventData):
    line: LooseId | None = Field(default=None, description="the telephony line")
    phone: LooseId | None = None


class FormData(EventData):
    form_id: Id
    fields: dict[str, Text] = Field(default_factory=dict)


class PaymentData(EventData):
    payment_id: LooseId | None = None
    amount: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


class ShipmentData(EventData):
    shipment_id: LooseId | None = None
    status: LooseId | None = None
    delivery_service: LooseId | None = None
    tracking_number: LooseId | None = None


class OrderCancelledData(EventData):
    reason: Text | None = None


class WebhookData(EventData):
    code: Annotated[str, Within(64)] = Field(min_length=1)
    payload: dict[str, Any] = Field(default_factory=dict)


class VisitData(EventData):
    url: Url | None = None


class ChatMessageData(EventData):
    channel_id: Id
    text: Text = ""


class DocumentData(EventData):
    template_id: Id
    document_id: LooseId | None = None


# --- parameters a trigger may set ----------------------------------------------------


class NoParams(TriggerParams):
    pass


class LinkParams(TriggerParams):
    url: Url = Field(min_length=1, description="matches clicked links that start with it")

    def matches(self, data: EventData) -> bool:
        return isinstance(data, EmailLinkClickedData) and data.url.startswith(self.url)


class CallParams(TriggerParams):
    line: LooseId | None = Field(default=None, description="telephony line; empty = any")

    def matches(self, data: EventData) -> bool:
        return self.line is None or (isinstance(data, CallData) and data.line == self.line)


class FormParams(TriggerParams):
    form_id: LooseId | None = Field(default=None, description="which form; empty = any")

    def matches(self, data: EventData) -> bool:
        return self.form_id is None or (isinstance(data, FormData) and data.form_id == self.form_id)


class TrackingParams(TriggerParams):
    delivery_service: LooseId | None = Field(default=None, description="empty = any service")

    def matches(self, data: EventData) -> bool:
        if self.delivery_service is None:
            return True
        return isinstance(data, ShipmentData) and data.delivery_service == self.delivery_service


class ChatParams(TriggerParams):
    channel_id: LooseId | None = Field(default=None, description="open channel; empty = any")
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


Source = Literal["service", "webhook", "tracking", "temporal", "engine"]
"""Who sends an event: a service through the HTTP API or ``OrderClient``, the signed
webhook URL, the engine's signed tracking links, a client of Temporal itself (trusted
with the cluster: anything but what only the engine raises), or the engine's own rules."""
ANYONE: frozenset[Source] = frozenset({"service", "webhook", "tracking", "temporal", "engine"})


@dataclass(frozen=True)
class EventType:
    name: str
    title: str
    data: type[EventData]
    params: type[TriggerParams]
    customer_activity: bool
    sent_by: frozenset[Source] = ANYONE
    """Who may send it. Of the types the engine raises itself, those a service also has
    reason to send (a payment, a shipment, a change in the CRM) are open to anyone; the
    others only to the engine's own paths."""
    raised_by: str = ""
    """What in the engine raises it (and who else may), for the catalog and for refusals."""

    def who_sends(self) -> str:
        """Who may send it, in words (for the event schema and the README)."""
        if self.sent_by == ENGINE_ONLY:
            return f"Raised by the engine only ({self.raised_by}); refused from callers."
        if self.sent_by == SIGNED_WEBHOOK:
            return "Sent only by the signed webhook URL (POST /webhooks/{pipeline}); refused on the other routes."
        if self.sent_by == TRACKING:
            return f"Fired only by the engine's signed tracking links ({self.raised_by}); refused from callers."
        return (
            f"Sent by services; the engine raises it too ({self.raised_by})." if self.raised_by else "Sent by services."
        )

    def refusal(self, source: Source) -> str | None:
        """Why ``source`` may not send an event of this type; None if it may."""
        if source in self.sent_by or (source == "temporal" and self.sent_by != ENGINE_ONLY):
            return None
        if self.sent_by == SIGNED_WEBHOOK:
            return f"a {self.name!r} event comes only from the signed webhook URL, POST /webhooks/{{pipeline}}"
        if self.sent_by == TRACKING:
            return f"a {self.name!r} event comes only from the engine's signed tracking links ({self.raised_by})"
        return f"a {self.name!r} event is raised only by the engine itself ({self.raised_by})"


ENGINE_ONLY: frozenset[Source] = frozenset({"engine"})
SIGNED_WEBHOOK: frozenset[Source] = frozenset({"webhook", "engine"})
TRACKING: frozenset[Source] = frozenset({"tracking", "engine"})

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in [
        EventType("responsible_changed", "Responsible changed", ResponsibleChangedData, NoParams, False,
                  raised_by="Change responsible"),
        EventType("email_received", "Incoming e-mail", EmailData, NoParams, True),
        EventType("email_sent", "E-mail sent", EmailData, NoParams, False, ENGINE_ONLY, "when Send e-mail sends one"),
        EventType("email_viewed", "E-mail viewed", EmailData, NoParams, True, TRACKING, "the open pixel of an e-mail"),
        EventType("email_link_clicked", "E-mail link clicked", EmailLinkClickedData, LinkParams, True, TRACKING,
                  "a tracked link of an e-mail"),
        EventType("call_incoming", "Incoming call", CallData, CallParams, True),
        EventType("call_missed", "Missed call", CallData, CallParams, True),
        EventType("form_submitted", "CRM form submitted", FormData, FormParams, True),
        EventType("callback_requested", "Callback requested", FormData, FormParams, True),
        EventType("payment", "Payment", PaymentData, NoParams, False, raised_by="Pay order"),
        EventType("delivery_approved", "Delivery approved", ShipmentData, NoParams, False,
                  raised_by="Allow delivery"),
        EventType("tracking_number_added", "Tracking number added", ShipmentData, TrackingParams, False,
                  raised_by="Edit shipments"),
        EventType("shipped", "Shipment", ShipmentData, NoParams, False, raised_by="Ship order"),
        EventType("shipment_changed", "Shipment status updated", ShipmentData, NoParams, False,
                  raised_by="the shipment rules"),
        EventType("order_cancelled", "Order cancelled", OrderCancelledData, NoParams, False,
                  raised_by="entering a failure stage"),
        EventType("webhook", "Webhook", WebhookData, WebhookParams, False, SIGNED_WEBHOOK, "the signed webhook URL"),
        EventType("visit", "Visit", VisitData, NoParams, True),
        EventType("returning_visitor", "Returning visitor", VisitData, NoParams, True),
        EventType("chat_first_message", "First live-chat message", ChatMessageData, ChatParams, True),
        EventType("chat_message", "Every live-chat message", ChatMessageData, ChatParams, True),
        EventType("document_created", "Document created", DocumentData, TemplateParams, False, ENGINE_ONLY,
                  "when Create document makes one"),
        EventType("document_opened", "Document opened", DocumentData, TemplateParams, True, TRACKING,
                  "the signed link of a document"),
    ]
}  # fmt: skip


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


class InvalidEvent(ValueError):
    """An event refused; ``problems`` has one line per problem, each naming its place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid event: " + "; ".join(problems))


def parse_event(raw: Any, source: Source, strict: bool = True) -> Event:
    """The event, if ``source`` may send it; checked against today's limits unless
    ``strict`` is off (a history recorded before them replays as it ran)."""
    try:
        event = Event.model_validate(raw, context=None if strict else INSIDE)
        if not strict:
            check_json_as_before_limits(event.model_dump(), "the event")
    except ValidationError as err:
        raise InvalidEvent(describe(err)) from None
    except ValueError as err:
        raise InvalidEvent([str(err)]) from None
    refusal = EVENT_TYPES[event.type].refusal(source)
    if refusal is not None:
        raise InvalidEvent([f"type: {refusal}"])
    return event


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
                "description": kind.who_sends(),
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
