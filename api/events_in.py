"""Events as the API takes them from services, and as its signed paths fire them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from automation.events import Event, Source
from order_client import OrderClient, parse_event

IdempotencyKey = Annotated[str | None, Header(max_length=200)]


class EventIn(BaseModel):
    """An event as services post it; ``event_id`` defaults to the Idempotency-Key header."""

    model_config = ConfigDict(extra="forbid")
    event_id: str | None = Field(default=None, max_length=200)
    type: str = Field(description="an event type of the catalog, e.g. payment")
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: AwareDatetime | None = Field(default=None, description="default: when received")


def service_event(event: EventIn, idempotency_key: str | None) -> Event:
    """A service's event: what only the engine raises, or only a signed URL sends, is refused."""
    event_id = event.event_id or idempotency_key or f"api-{uuid.uuid4()}"
    occurred_at = event.occurred_at or datetime.now(UTC)
    raw = {**event.model_dump(exclude_none=True), "event_id": event_id, "occurred_at": occurred_at}
    return parse_event(raw, "service")


_SIGNED_BY: dict[str, Source] = {
    "webhook": "webhook", "email_viewed": "tracking", "email_link_clicked": "tracking", "document_opened": "tracking",
}  # fmt: skip
"""The events the signed paths of the API send: the webhook URL and the tracking links."""


async def fire(orders: OrderClient, type: str, order_id: str, event_id: str, data: dict[str, Any]) -> None:
    """An event of a signed path (webhook, tracking link), sent as its signer."""
    event = {"event_id": event_id, "type": type, "data": data, "occurred_at": datetime.now(UTC)}
    await orders.send_event(order_id, event, _SIGNED_BY[type])
