"""The Webhook trigger: a signed call for an order moves it; anything else is refused."""

from __future__ import annotations

import time
from typing import Any

import httpx

from api.signatures import signature
from automation.state import OrderView, TimelineEntry
from store.database import session
from store.tables import PipelineRecord
from tests.api.conftest import Api
from tests.helpers import event, eventually, new_order, ready_view


async def _secret(api: Api) -> str:
    async with session(api.engine.deps.engine) as db:
        record = await db.get(PipelineRecord, "shop")
    assert record is not None
    return record.webhook_secret


async def _order(api: Api) -> str:
    order = new_order("shop")
    await api.engine.orders.create_order(order)
    await eventually(lambda: _stored(api, order.order_id))
    return order.order_id


async def _stored(api: Api, order_id: str) -> bool:
    # the webhook finds orders in the store: wait for the first save
    view = await ready_view(api.engine.orders, order_id)
    return view is not None and any(e.kind == "order_created" for e in view.timeline) and await _in_store(api, order_id)


async def _in_store(api: Api, order_id: str) -> bool:
    from store.tables import Order

    async with session(api.engine.deps.engine) as db:
        return await db.get(Order, order_id) is not None


async def _call(
    api: Api, secret: str, params: dict[str, str], body: bytes = b'{"note": "from the ERP"}', **overrides: Any
) -> httpx.Response:
    """A call signed for ``params`` (or for ``signed_for`` to forge one aimed elsewhere)."""
    timestamp = str(overrides.pop("timestamp", int(time.time())))
    signed = overrides.pop("signed_for", params)
    mac = signature(secret, timestamp, signed.get("target", ""), signed.get("code", ""), body)
    headers = {
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": overrides.pop("signature", mac),
        "Content-Type": "application/json",
    }
    return await api.http.post(f"/webhooks/{overrides.pop('pipeline', 'shop')}", params=params, content=body,
                               headers=headers)  # fmt: skip


async def test_a_signed_call_moves_the_order_once(api: Api) -> None:
    order_id, secret = await _order(api), await _secret(api)
    params = {"target": f"ORDER_{order_id}", "code": "abc12"}

    fixed = int(time.time())
    first = await _call(api, secret, params, timestamp=fixed)
    retried = await _call(api, secret, params, timestamp=fixed)

    assert (first.status_code, first.json()) == (200, {"result": True})
    assert retried.json() == {"result": True}
    view = await eventually(lambda: _at(api, order_id, "hooked"))
    hooks = [e for e in view.timeline if e.kind == "event_received" and e.data["event"]["type"] == "webhook"]
    assert len(hooks) == 1
    assert hooks[0].data["event"]["data"] == {"code": "abc12", "payload": {"note": "from the ERP"}}


async def _at(api: Api, order_id: str, stage: str) -> OrderView | None:
    view = await ready_view(api.engine.orders, order_id)
    return view if view is not None and view.stage == stage else None


async def test_a_code_that_matches_no_trigger_changes_nothing(api: Api) -> None:
    order_id, secret = await _order(api), await _secret(api)
    response = await _call(api, secret, {"target": f"ORDER_{order_id}", "code": "other"})
    assert response.json() == {"result": True}
    view = await eventually(lambda: _has(api, order_id, "no_trigger"))
    assert view.stage == "new"


async def _has(api: Api, order_id: str, kind: str) -> OrderView | None:
    view = await ready_view(api.engine.orders, order_id)
    return view if view is not None and any(e.kind == kind for e in view.timeline) else None


async def test_two_calls_in_the_same_second_are_two_events(api: Api) -> None:
    order_id, secret = await _order(api), await _secret(api)
    fixed = int(time.time())
    for code in ("other", "abc12"):  # same order, timestamp and body; another trigger code
        response = await _call(api, secret, {"target": f"ORDER_{order_id}", "code": code}, b"", timestamp=fixed)
        assert response.json() == {"result": True}
    view = await eventually(lambda: _at(api, order_id, "hooked"))
    codes = [e.data["event"]["data"]["code"] for e in view.timeline if _is_webhook(e)]
    assert codes == ["other", "abc12"]


def _is_webhook(entry: TimelineEntry) -> bool:
    return entry.kind == "event_received" and entry.data["event"]["type"] == "webhook"


async def test_refusals(api: Api) -> None:
    order_id, other_id, secret = await _order(api), await _order(api), await _secret(api)
    good = {"target": f"ORDER_{order_id}", "code": "abc12"}
    stale = int(time.time()) - 3600
    cases = [
        (await _call(api, secret, good, signature="sha256=" + "0" * 64), 401, "access denied", "bad signature"),
        (await _call(api, secret, good, signature="sha256=é".encode()), 401, "access denied", "bad signature"),
        (await _call(api, "not-the-secret", good), 401, "access denied", "bad signature"),
        # a captured call aimed at another order, or at another trigger, no longer matches
        (await _call(api, secret, {**good, "target": f"ORDER_{other_id}"}, signed_for=good), 401,
         "access denied", "bad signature"),
        (await _call(api, secret, {**good, "code": "other"}, signed_for=good), 401, "access denied", "bad signature"),
        (await _call(api, secret, good, timestamp=stale), 401, "access denied", "stale timestamp"),
        (await _call(api, secret, good, timestamp="9" * 400), 401, "access denied",
         "bad timestamp: unix seconds expected"),
        (await _call(api, secret, good, pipeline="nope"), 404, "unknown pipeline", None),
        (await _call(api, secret, {"code": "abc12"}), 400, "target not set", None),
        (await _call(api, secret, {"target": order_id, "code": "abc12"}), 400, "bad target format",
         "expected ORDER_<order id>"),
        (await _call(api, secret, {"target": "ORDER_nobody", "code": "abc12"}), 404, "target not found", None),
        (await _call(api, secret, good, body=b"[1, 2]"), 400, "the body must be empty or a JSON object", None),
        (await _call(api, secret, good, body=b"[" * 100_000), 400, "the body must be empty or a JSON object", None),
        (await _call(api, secret, good, body=b'{"x": NaN}'), 400, "bad payload",
         "the event must not hold NaN or infinite numbers"),
    ]  # fmt: skip
    for response, status, error, reason in cases:
        expected = {"result": False, "error": error} | ({"reason": reason} if reason else {})
        assert (response.status_code, response.json()) == (status, expected)

    # Events are handled in arrival order: once this one is, any webhook call before it was too.
    await api.engine.orders.apply_event(order_id, event("visit"))
    for refused_id in (order_id, other_id):
        view = await ready_view(api.engine.orders, refused_id)
        assert view is not None and view.stage == "new"
        assert [e for e in view.timeline if _is_webhook(e)] == []
