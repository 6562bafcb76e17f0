"""Services over HTTP: create an order, send events (applied once per idempotency key),
read state and timeline, list by stage; bad input gets a 4xx that says where."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from api.app import create_app
from api.server import serving
from automation.state import OrderView
from devserver import free_port
from order_client import OrderClient
from store.database import make_engine
from tests.api.conftest import PIPELINE, Api, admin_client, bearer
from tests.conftest import running_engine, seed
from tests.helpers import eventually, new_order, ready_view


async def _create(api: Api) -> str:
    order = new_order("shop")
    response = await api.http.post("/orders", json=order.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    assert response.json() == {"order_id": order.order_id, "workflow_id": f"order-{order.order_id}"}
    await eventually(lambda: _state(api, order.order_id))
    return order.order_id


async def _state(api: Api, order_id: str) -> dict[str, Any] | None:
    response = await api.http.get(f"/orders/{order_id}")
    assert response.status_code in (200, 409), response.text  # 409: still loading its pipeline
    return response.json() if response.status_code == 200 else None


PAYMENT = {"type": "payment", "data": {"amount": 99.5, "currency": "EUR"}}


async def test_a_retried_request_with_the_same_idempotency_key_is_applied_once(api: Api) -> None:
    order_id = await _create(api)
    headers = {"Idempotency-Key": "pay-once-123"}

    first = await api.http.post(f"/orders/{order_id}/events?wait=true", json=PAYMENT, headers=headers)
    again = await api.http.post(f"/orders/{order_id}/events?wait=true", json=PAYMENT, headers=headers)
    fire_and_forget = await api.http.post(f"/orders/{order_id}/events", json=PAYMENT, headers=headers)

    assert first.status_code == 200, first.text
    assert first.json() | {"message": ""} == {
        "event_id": "pay-once-123", "status": "applied", "stage": "paid", "moved_from": "new", "message": ""
    }  # fmt: skip
    assert again.json() == first.json()  # the retry gets the first answer
    assert (fire_and_forget.status_code, fire_and_forget.json()) == (
        202,
        {"event_id": "pay-once-123", "accepted": True},
    )
    await eventually(lambda: _timeline_kinds(api, order_id, "event_duplicate", 1))
    timeline = (await api.http.get(f"/orders/{order_id}/timeline")).json()
    received = [e["data"]["event"]["event_id"] for e in timeline if e["kind"] == "event_received"]
    assert received.count("pay-once-123") == 1


async def _timeline_kinds(api: Api, order_id: str, kind: str, count: int) -> list[str] | None:
    response = await api.http.get(f"/orders/{order_id}/timeline")
    if response.status_code == 404:  # not in the store yet
        return None
    kinds = [entry["kind"] for entry in response.json()]
    return kinds if kinds.count(kind) >= count else None


async def test_bad_input_gets_a_4xx_that_says_what_and_where(api: Api) -> None:
    order_id = await _create(api)
    url = f"/orders/{order_id}/events"

    cases = [
        (await api.http.post(url, content=b"{not json", headers={"content-type": "application/json"}), 422,
         "body: invalid JSON at character 1: Expecting property name enclosed in double quotes"),
        (await api.http.post(url, json={"type": "paymnt"}), 422, "type: unknown event type 'paymnt'"),
        (await api.http.post(url, json={"type": "payment", "data": {"amount": "lots", "currency": "EUR"}}), 422,
         "data.amount: input should be a valid number, unable to parse string as a number"),
        (await api.http.post(url, json={**PAYMENT, "colour": "red"}), 422, "body.colour: unknown field"),
        (await api.http.post("/orders", json={"order_id": "bad id!", "pipeline_id": "shop"}), 422,
         "body.order_id: must match ^[A-Za-z0-9][A-Za-z0-9_.:-]*$"),
        (await api.http.post("/orders", json={"order_id": "o-1", "pipeline_id": "nope"}), 422,
         "pipeline_id: no pipeline 'nope'; load it first"),
        (await api.http.post("/orders", content=b'{"order_id": "o-2", "pipeline_id": "shop", "fields": {"x": NaN}}',
                             headers={"content-type": "application/json"}), 422,
         "body: the order must not hold NaN or infinite numbers"),
        (await api.http.post(url, content=b'{"type": "payment", "data": {"amount": Infinity, "currency": "EUR"}}',
                             headers={"content-type": "application/json"}), 422,
         "the event must not hold NaN or infinite numbers"),
    ]  # fmt: skip
    for response, status, error in cases:
        assert response.status_code == status, response.text
        assert any(line.startswith(error) for line in response.json()["errors"]), response.json()

    nested = b'{"type": "webhook", "data": {"code": "x", "payload": ' + b"[" * 100_000
    too_deep = await api.http.post(url, content=nested, headers={"content-type": "application/json"})
    assert (too_deep.status_code, too_deep.json()) == (400, {"detail": "There was an error parsing the body"})
    for depth in (900, 950, 980, 995):  # around the parser's own limit: a 4xx, never a 500
        payload = b'{"type": "webhook", "data": {"code": "x", "payload": {"a": ' + b"[" * depth + b"]" * depth + b"}}}"
        deep = await api.http.post(url, content=payload, headers={"content-type": "application/json"})
        assert deep.status_code in (202, 400, 422), (depth, deep.status_code, deep.text[:200])
    nul = await api.http.post("/contacts/events", params={"email": "a\x00b@example.com"}, json=PAYMENT)
    assert (nul.status_code, nul.json()["errors"]) == (400, ["url: must not contain NUL characters"])
    assert (await api.http.post("/webhooks/shop%00", content=b"")).status_code == 400

    missing = await api.http.get("/orders/no-such-order")
    assert (missing.status_code, missing.json()["detail"]) == (404, "no order 'no-such-order'")
    event_for_missing = await api.http.post("/orders/no-such-order/events", json=PAYMENT)
    assert event_for_missing.status_code == 404
    state = await _state(api, order_id)
    assert state is not None and state["stage"] == "new"


async def test_orders_are_listed_by_stage_and_their_timeline_read_from_the_store(api: Api) -> None:
    order_id = await _create(api)
    await api.http.post(f"/orders/{order_id}/events?wait=true", json=PAYMENT)

    async def listed() -> list[Any] | None:
        found = (await api.http.get("/orders", params={"stage": "paid", "pipeline": "shop"})).json()
        return found if order_id in [o["order_id"] for o in found] else None

    await eventually(listed)
    timeline = await eventually(lambda: _timeline_kinds(api, order_id, "stage_changed", 1))
    assert timeline[0] == "order_created"


async def test_the_openapi_schema_describes_the_api(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/events", "/orders/{order_id}/timeline",
            "/webhooks/{pipeline_id}"} <= set(schema["paths"])  # fmt: skip


async def test_a_customer_event_reaches_every_open_order_of_the_customer(api: Api) -> None:
    first, second = new_order("shop"), new_order("shop")
    second.customer = first.customer
    for order in (first, second):
        await api.http.post("/orders", json=order.model_dump(mode="json"))
    customer_id = first.customer.id  # type: ignore[union-attr]

    async def both_listed() -> bool:
        found = (await api.http.get("/orders", params={"pipeline": "shop"})).json()
        return {first.order_id, second.order_id} <= {o["order_id"] for o in found}

    await eventually(both_listed)
    chat = {"type": "chat_message", "data": {"channel_id": "site", "text": "hello"}}
    response = await api.http.post(f"/customers/{customer_id}/events", json=chat, headers={"Idempotency-Key": "c-1"})
    assert response.status_code == 202
    assert sorted(response.json()["orders"]) == sorted([first.order_id, second.order_id])
    for order in (first, second):

        async def received(order_id: str = order.order_id) -> bool:
            return await _received(api, order_id, "c-1")

        await eventually(received)
    retried = await api.http.post(f"/customers/{customer_id}/events", json=chat, headers={"Idempotency-Key": "c-1"})
    assert sorted(retried.json()["orders"]) == sorted([first.order_id, second.order_id])
    for order in (first, second):

        async def duplicate(order_id: str = order.order_id) -> list[str] | None:
            return await _timeline_kinds(api, order_id, "event_duplicate", 1)

        await eventually(duplicate)
        timeline = (await api.http.get(f"/orders/{order.order_id}/timeline")).json()
        assert [e["data"]["event"]["event_id"] for e in timeline if e["kind"] == "event_received"].count("c-1") == 1


async def _received(api: Api, order_id: str, event_id: str) -> bool:
    response = await api.http.get(f"/orders/{order_id}/timeline")
    entries = response.json() if response.status_code == 200 else []
    return any(e["kind"] == "event_received" and e["data"]["event"]["event_id"] == event_id for e in entries)


async def test_a_customer_event_skips_the_orders_that_are_closed(api: Api) -> None:
    open_order, closed = new_order("shop"), new_order("shop")
    closed.customer = open_order.customer
    for order in (open_order, closed):
        await api.http.post("/orders", json=order.model_dump(mode="json"))
    shipped = {"type": "shipped", "data": {}}
    assert (await api.http.post(f"/orders/{closed.order_id}/events?wait=true", json=shipped)).json()["stage"] == "done"

    async def closed_listed() -> bool:
        found = (await api.http.get("/orders", params={"stage": "done", "pipeline": "shop"})).json()
        return closed.order_id in {o["order_id"] for o in found}

    await eventually(closed_listed)
    visit = {"type": "visit", "data": {}}
    response = await api.http.post(f"/customers/{open_order.customer.id}/events", json=visit)  # type: ignore[union-attr]
    assert response.json()["orders"] == [open_order.order_id]


async def test_with_no_worker_an_answer_is_a_503_and_an_accepted_event_is_kept(
    dev_env: WorkflowEnvironment, deps: WorkerResources, api_port: int
) -> None:
    """No worker polls the orders' task queue: waiting for an outcome fails with a 503 that
    says to retry, a fire-and-forget event is accepted, and a worker that comes later applies it."""
    await seed(deps.engine, PIPELINE)
    orders = OrderClient(dev_env.client, task_queue=f"nobody-{uuid.uuid4()}", answer_within=timedelta(seconds=1))
    order = new_order("shop")
    app = create_app(orders, deps.engine, deps.settings)
    async with serving(app, "127.0.0.1", api_port) as url, await admin_client(url, deps.engine) as http:
        assert (await http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
        waited = await http.post(f"/orders/{order.order_id}/events?wait=true", json=PAYMENT)
        assert waited.status_code == 503
        assert "retry with the same Idempotency-Key" in waited.json()["detail"]
        headers = {"Idempotency-Key": "kept-1"}
        accepted = await http.post(f"/orders/{order.order_id}/events", json=PAYMENT, headers=headers)
        assert (accepted.status_code, accepted.json()) == (202, {"event_id": "kept-1", "accepted": True})

    async with running_engine(dev_env, deps, task_queue=orders.task_queue) as engine:
        view = await eventually(lambda: _received_in_view(engine.orders, order.order_id, "kept-1"))
    assert view.stage == "paid"


async def _received_in_view(orders: OrderClient, order_id: str, event_id: str) -> OrderView | None:
    view = await ready_view(orders, order_id)
    received = [e.data["event"]["event_id"] for e in view.timeline if e.kind == "event_received"] if view else []
    return view if event_id in received else None


async def test_an_event_from_a_phone_number_or_address_reaches_the_customers_open_orders(api: Api) -> None:
    order = new_order("shop")
    await api.http.post("/orders", json=order.model_dump(mode="json"))
    assert order.customer is not None
    await eventually(lambda: _timeline_kinds(api, order.order_id, "order_created", 1))  # its card is stored

    call = {"type": "call_incoming", "data": {"line": "main"}}
    by_phone = await api.http.post("/contacts/events", params={"phone": order.customer.phones[0].value}, json=call)
    assert by_phone.status_code == 202, by_phone.text
    assert order.order_id in by_phone.json()["orders"]
    assert order.customer.id in by_phone.json()["customers"]
    mail = {"type": "email_received", "data": {"subject": "About my order"}}
    address = order.customer.emails[0].value.upper()
    by_address = await api.http.post("/contacts/events", params={"email": address}, json=mail)
    assert (by_address.json()["customers"], by_address.json()["orders"]) == ([order.customer.id], [order.order_id])
    for event_id in (by_phone.json()["event_id"], by_address.json()["event_id"]):

        async def received(event_id: str = event_id) -> bool:
            return await _received(api, order.order_id, event_id)

        await eventually(received)

    unencoded = await api.http.post(f"/contacts/events?phone={order.customer.phones[0].value}", json=call)
    assert order.order_id in unencoded.json()["orders"]  # "+1555..." sent as is: its + arrives as a space
    nobody = await api.http.post("/contacts/events", params={"email": "nobody@example.com"}, json=mail)
    assert (nobody.status_code, nobody.json()["orders"]) == (202, [])
    neither = await api.http.post("/contacts/events", json=mail)
    assert (neither.status_code, neither.json()["errors"]) == (422, ["query: give exactly one of email or phone"])


async def test_a_customer_event_sent_as_soon_as_the_order_is_created_reaches_it(api: Api) -> None:
    """Many times over: the customer's open orders come from the store, written before the
    order is reported created, not from Temporal's visibility, which lags."""
    missed = []
    for _ in range(20):
        order = new_order("shop")
        assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
        visit = {"type": "visit", "data": {}}
        response = await api.http.post(f"/customers/{order.customer.id}/events", json=visit)  # type: ignore[union-attr]
        if response.json()["orders"] != [order.order_id]:
            missed.append(order.order_id)
        contact = {"type": "email_received", "data": {}}
        email = order.customer.emails[0].value  # type: ignore[union-attr]
        by_address = await api.http.post("/contacts/events", params={"email": email}, json=contact)
        if by_address.json()["orders"] != [order.order_id]:
            missed.append(f"{order.order_id} by its address")
    assert missed == []


async def test_with_the_store_unreachable_an_order_or_a_customer_event_is_a_503(
    dev_env: WorkflowEnvironment, deps: WorkerResources, api_port: int
) -> None:
    """The store down (here a PostgreSQL URL where nothing listens): a 503 that says to retry,
    never a 500, and nothing started in Temporal for an order the store does not know."""
    unreachable = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    orders = OrderClient(dev_env.client, task_queue=f"nobody-{uuid.uuid4()}")
    order = new_order("shop")
    app = create_app(orders, unreachable, deps.settings)
    headers = bearer("oak_any_key")  # its key is looked up in the store too
    async with serving(app, "127.0.0.1", api_port) as url, httpx.AsyncClient(base_url=url, headers=headers) as http:
        created = await http.post("/orders", json=order.model_dump(mode="json"))
        fan_out = await http.post("/customers/c1/events", json={"type": "visit", "data": {}})
    await unreachable.dispose()
    for response in (created, fan_out):
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.json()["detail"] == "the store is unreachable or busy; retry"
    with pytest.raises(RPCError):
        await orders.handle(order.order_id).describe()
