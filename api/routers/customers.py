"""Events about a customer, or from an e-mail address or phone number: they reach every
open order of the customer (the store knows an order before it is reported created)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.auth import WritesEvents
from api.dependencies import Orders, Store
from api.errors import invalid_request
from api.events_in import EventIn, IdempotencyKey, service_event
from automation import limits
from store.database import session
from store.directory import customers_by_contact
from store.orders import customers_of, open_orders

router = APIRouter(tags=["customers"])

CustomerIdPath = Annotated[str, Path(min_length=1, max_length=limits.ID_CHARS, description="the customer id")]


@router.post("/customers/{customer_id}/events", status_code=202, response_model=dict[str, Any])
async def send_customer_event(
    caller: WritesEvents,
    customer_id: CustomerIdPath,
    event: EventIn,
    orders: Orders,
    store: Store,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """An event about a customer (e-mail, call, chat, form, visit...): it reaches every
    open order of the customer. Answers which."""
    parsed = service_event(event, idempotency_key)
    async with session(store) as db:
        order_ids = await caller.visible(db, await open_orders(db, [customer_id]))
    reached = await orders.send_to_orders(order_ids, parsed)
    return {"event_id": parsed.event_id, "orders": reached}


@router.post("/contacts/events", status_code=202, response_model=dict[str, Any])
async def send_contact_event(
    caller: WritesEvents,
    event: EventIn,
    orders: Orders,
    store: Store,
    email: Annotated[str | None, Query(max_length=320, description="the sender's e-mail address")] = None,
    phone: Annotated[str | None, Query(max_length=40, description="the caller's phone number")] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any] | JSONResponse:
    """An event from an e-mail address or a phone number (a mail server, telephony): it
    reaches every open order of each customer with that address or number in their card."""
    if (email is None) == (phone is None):
        return invalid_request("query: give exactly one of email or phone")
    parsed = service_event(event, idempotency_key)
    if phone is not None and phone.startswith(" "):
        phone = "+" + phone.lstrip()  # an unencoded + in the query string arrives as a space
    async with session(store) as db:
        customers = await customers_by_contact(db, email=email, phone=phone)
        order_ids = await caller.visible(db, await open_orders(db, customers))
        if caller.pipelines is not None:  # not a way to find other pipelines' customers
            customers = await customers_of(db, order_ids)
    reached = await orders.send_to_orders(order_ids, parsed)
    return {"event_id": parsed.event_id, "customers": customers, "orders": reached}
