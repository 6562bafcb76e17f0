"""Services over HTTP: create an order, send events (applied once per idempotency key),
read state and timeline, list by stage; bad input gets a 4xx that says where."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.helpers import eventually, new_order


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


async def test_a_retried_request_with_the_same_idempotency_key_is_applied_once(api: Api):
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


async def test_bad_input_gets_a_4xx_that_says_what_and_where(api: Api):
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
         "body.order_id: string should match pattern"),
    ]  # fmt: skip
    for response, status, error in cases:
        assert response.status_code == status, response.text
        assert any(line.startswith(error) for line in response.json()["errors"]), response.json()

    missing = await api.http.get("/orders/no-such-order")
    assert (missing.status_code, missing.json()["detail"]) == (404, "no order 'no-such-order'")
    event_for_missing = await api.http.post("/orders/no-such-order/events", json=PAYMENT)
    assert event_for_missing.status_code == 404
    state = await _state(api, order_id)
    assert state is not None and state["stage"] == "new"


async def test_orders_are_listed_by_stage_and_their_timeline_read_from_the_store(api: Api):
    order_id = await _create(api)
    await api.http.post(f"/orders/{order_id}/events?wait=true", json=PAYMENT)

    async def listed() -> list[Any] | None:
        found = (await api.http.get("/orders", params={"stage": "paid", "pipeline": "shop"})).json()
        return found if order_id in [o["order_id"] for o in found] else None

    await eventually(listed)
    timeline = await eventually(lambda: _timeline_kinds(api, order_id, "stage_changed", 1))
    assert timeline[0] == "order_created"


async def test_the_openapi_schema_describes_the_api(api: Api):
    schema = (await api.http.get("/openapi.json")).json()
    assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/events", "/orders/{order_id}/timeline",
            "/webhooks/{pipeline_id}"} <= set(schema["paths"])  # fmt: skip


async def test_a_customer_event_reaches_every_open_order_of_the_customer(api: Api):
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
        await eventually(lambda order_id=order.order_id: _timeline_kinds(api, order_id, "event_received", 2))
