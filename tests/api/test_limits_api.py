"""The HTTP API's limits and answers on a real socket: bodies over the limit refused before
they are read whole, ids over their limit refused with their place, one error per problem,
overload as 429 or 503 with Retry-After, and signed links kept from the callers."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest

from automation import limits
from automation.events import Event
from automation.models import INSIDE, json_size
from tests.api.conftest import Api
from tests.helpers import eventually, new_order, ready_view

PAYMENT = {"type": "payment", "data": {"amount": 99.5, "currency": "EUR"}}
STAMP = {"event_id": "e-big", "occurred_at": "2026-12-02T10:00:00Z"}


async def _create(api: Api) -> str:
    order = new_order("shop")
    assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    await eventually(lambda: ready_view(api.engine.orders, order.order_id))
    return order.order_id


async def test_a_body_over_128_kib_is_refused_before_it_is_read_whole(api: Api) -> None:
    order_id = await _create(api)
    url, json_type = f"/orders/{order_id}/events", {"content-type": "application/json"}
    event = b'{"type": "visit", "data": {}}'
    at_limit = event + b" " * (limits.REQUEST_BODY_BYTES - len(event))  # read, and taken
    assert (await api.http.post(url, content=at_limit, headers=json_type)).status_code == 202
    over = await api.http.post(url, content=at_limit + b" ", headers=json_type)
    assert (over.status_code, over.json()["errors"]) == (413, ["body: at most 131,072 bytes"])

    # 16 MiB announced, a few KiB sent: the answer comes without the rest ever being sent.
    key = api.http.headers["Authorization"]  # a caller with a key (one without is refused before: a 401)
    head = f"POST /orders/{order_id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\n"
    head += "Content-Type: application/json\r\n"
    announced = await _status(api, f"{head}Content-Length: {16 * 1024 * 1024}\r\n\r\n".encode() + b"{" + b" " * 4096)
    assert announced.startswith(b"HTTP/1.1 413")
    # No length announced (chunked): refused as soon as what arrives passes the limit.
    chunk = b"2000\r\n" + b" " * 0x2000 + b"\r\n"
    chunked = await _status(api, f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunk * 17)
    assert chunked.startswith(b"HTTP/1.1 413")
    assert (await api.http.get(f"/orders/{order_id}")).json()["stage"] == "new"  # nothing changed


async def _status(api: Api, request: bytes) -> bytes:
    """The status line the API answers a raw request with (sent as is, never finished)."""
    url = urlsplit(str(api.http.base_url))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()


async def test_ids_over_their_limit_are_refused_with_their_place(api: Api) -> None:
    long_order = await api.http.get(f"/orders/{'o' * 101}")
    assert (long_order.status_code, long_order.json()["errors"]) == (422, ["path.order_id: at most 100 characters"])
    long_customer = await api.http.post(f"/customers/{'c' * 101}/events", json={"type": "visit"})
    assert long_customer.json()["errors"] == ["path.customer_id: at most 100 characters"]
    order = new_order("shop").model_dump(mode="json") | {"responsible_id": "r" * 3000}
    refused = await api.http.post("/orders", json=order)
    assert (refused.status_code, refused.json()["errors"]) == (422, ["body.responsible_id: at most 100 characters"])
    order_id = await _create(api)
    event = {"type": "responsible_changed", "data": {"responsible_id": "r" * 3000}}
    changed = await api.http.post(f"/orders/{order_id}/events", json=event)
    assert (changed.status_code, changed.json()["errors"]) == (422, ["data.responsible_id: at most 100 characters"])


async def test_each_problem_is_one_entry(api: Api) -> None:
    order_id = await _create(api)
    big: dict[str, Any] = {
        "type": "chat_message",
        "data": {"channel_id": "c", "text": "t" * 19_000},
        "event_id": "e" * 200,
    }
    oversized = await api.http.post(f"/orders/{order_id}/events", json={**big, "data": {**big["data"], "x": 1}})
    assert oversized.json()["errors"] == ["data.x: unknown field"]
    fields = {f"f{i}": "x" * 19_000 for i in range(4)}
    bigger = {"type": "form_submitted", "data": {"form_id": "f", "fields": fields}, **STAMP}
    size = json_size(Event.model_validate(bigger, context=INSIDE).model_dump())
    too_big = await api.http.post(f"/orders/{order_id}/events", json=bigger)
    # one entry, its size not split at a comma or re-counted
    assert (too_big.status_code, too_big.json()["errors"]) == (
        422,
        [f"the event is {size:,} bytes of JSON; at most 65,536"],
    )
    two = await api.http.post(f"/orders/{order_id}/events", json={"type": "payment", "data": {"amount": -1}})
    assert two.json()["errors"] == [
        "data.amount: input should be greater than or equal to 0",
        "data.currency: required",
    ]


@pytest.mark.alone  # a burst of updates: other tests' load would make its answers slower than it allows
async def test_many_waiting_events_for_one_order_are_answered_or_told_when_to_retry(api: Api) -> None:
    order_id = await _create(api)

    async def one(number: int) -> Any:
        event = {"type": "visit", "data": {}, "event_id": f"v-{number}"}
        return await api.http.post(f"/orders/{order_id}/events?wait=true", json=event)

    answers = await asyncio.gather(*(one(n) for n in range(100)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429, 503}, statuses  # never a 400 or a 500
    assert all("Retry-After" in answer.headers for answer in answers if answer.status_code != 200)
    assert statuses.count(200) >= 90, statuses


async def test_a_signed_link_is_not_shown_to_callers(api: Api) -> None:
    order_id = await _create(api)  # its first rule creates a document, with a signed link

    async def documented() -> dict[str, Any] | None:
        view = (await api.http.get(f"/orders/{order_id}")).json()
        return view if "document_url" in view["variables"] else None

    view = await documented() or await eventually(documented)
    assert view is not None
    assert view["variables"]["document_url"] == "[signed link: sent to the customer, not shown here]"
    assert "/t/doc/" in (await api.engine.orders.state(order_id)).variables["document_url"]  # ops see it in Temporal
    timeline = (await api.http.get(f"/orders/{order_id}/timeline")).text
    assert "/t/doc/" not in timeline and "/t/click/" not in timeline


async def test_a_webhook_body_over_the_limit_is_refused_as_it_arrives(api: Api, caplog: Any) -> None:
    head = "POST /webhooks/shop?target=ORDER_x&code=abc12 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"2000\r\n" + b" " * 0x2000 + b"\r\n"
    assert (await _status(api, head.encode() + chunk * 17)).startswith(b"HTTP/1.1 413")
    await asyncio.sleep(0.2)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no "Exception in ASGI application"
