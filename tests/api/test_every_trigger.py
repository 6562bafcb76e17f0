"""Every trigger of the catalog, fired through the HTTP API and directly through
Temporal: it moves the order forward to its stage, back only where allowed, and not at
all when its parameters or condition do not accept the event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from automation.events import EVENT_TYPES
from automation.pipeline import Pipeline
from store.database import session
from store.orders import save_pipeline
from tests.api.conftest import Api
from tests.helpers import eventually, new_order, ready_view

# type: (trigger params, event data that matches, event data that does not match or None)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]] = {
    "responsible_changed": ({}, {"responsible_id": "emp-warehouse"}, None),
    "email_received": ({}, {"address": "ada@example.com"}, None),
    "email_sent": ({}, {"subject": "Hello"}, None),
    "email_viewed": ({}, {"message_id": "<m1@shop>"}, None),
    "email_link_clicked": ({"url": "https://shop.example/offer"}, {"url": "https://shop.example/offer?id=7"},
                           {"url": "https://shop.example/cart"}),
    "call_incoming": ({"line": "sales"}, {"line": "sales", "phone": "+15550100"}, {"line": "support"}),
    "call_missed": ({"line": "sales"}, {"line": "sales"}, {"line": "support"}),
    "form_submitted": ({"form_id": "contact"}, {"form_id": "contact", "fields": {"name": "Ada"}}, {"form_id": "quiz"}),
    "callback_requested": ({"form_id": "callback"}, {"form_id": "callback"}, {"form_id": "contact"}),
    "payment": ({}, {"amount": 10, "currency": "EUR"}, None),
    "delivery_approved": ({}, {"shipment_id": "s1"}, None),
    "tracking_number_added": ({"delivery_service": "ups"}, {"tracking_number": "1Z9", "delivery_service": "ups"},
                              {"tracking_number": "1Z9", "delivery_service": "dhl"}),
    "shipped": ({}, {"shipment_id": "s1"}, None),
    "shipment_changed": ({}, {"status": "delivered"}, {"status": "in_transit"}),  # + a condition, below
    "order_cancelled": ({}, {"reason": "customer asked"}, None),
    "webhook": ({"code": "abc12"}, {"code": "abc12", "payload": {"erp": 1}}, {"code": "zzz99"}),
    "visit": ({}, {"url": "https://shop.example/"}, None),
    "returning_visitor": ({}, {"url": "https://shop.example/"}, None),
    "chat_first_message": ({"channel_id": "site"}, {"channel_id": "site", "text": "Hi"}, {"channel_id": "tg"}),
    "chat_message": ({"channel_id": "site", "text": "refund"}, {"channel_id": "site", "text": "A REFUND please"},
                     {"channel_id": "site", "text": "thanks"}),
    "document_created": ({"template_id": "invoice"}, {"template_id": "invoice"}, {"template_id": "offer"}),
    "document_opened": ({"template_id": "invoice"}, {"template_id": "invoice"}, {"template_id": "offer"}),
}  # fmt: skip
CONDITIONS = {"shipment_changed": {"field": "event.status", "op": "=", "value": "delivered"}}


def test_the_cases_cover_the_whole_catalog():
    assert set(CASES) == set(EVENT_TYPES)


def _pipeline(type: str, allow_back: bool) -> Pipeline:
    params, _, _ = CASES[type]
    onward = "payment" if type != "payment" else "visit"
    trigger: dict[str, Any] = {"type": type, "params": params, "allow_back": allow_back}
    if type in CONDITIONS:
        trigger["condition"] = CONDITIONS[type]
    return Pipeline.model_validate({
        "id": f"t-{type.replace('_', '-')}-{'back' if allow_back else 'fwd'}",
        "title": f"Trigger {type}",
        "stages": [
            {"id": "start", "title": "Start"},
            {"id": "target", "title": "Target", "triggers": [trigger]},
            {"id": "later", "title": "Later", "triggers": [{"type": onward}]},
            {"id": "done", "title": "Done", "final": "success"},
        ],
    })  # fmt: skip


def _event(type: str, data: dict[str, Any], n: int) -> dict[str, Any]:
    return {"event_id": f"{type}-{n}", "type": type, "data": data, "occurred_at": datetime.now(UTC).isoformat()}


async def _send_api(api: Api, order_id: str, event: dict[str, Any]) -> str:
    response = await api.http.post(f"/orders/{order_id}/events?wait=true", json=event)
    assert response.status_code == 200, response.text
    return str(response.json()["stage"])


async def _send_temporal(api: Api, order_id: str, event: dict[str, Any]) -> str:
    return (await api.engine.orders.apply_event(order_id, event)).stage


@pytest.mark.parametrize("via", ["api", "temporal"])
@pytest.mark.parametrize("type", sorted(CASES))
async def test_trigger(api: Api, type: str, via: str):
    send = _send_api if via == "api" else _send_temporal
    _, matching, other = CASES[type]
    onward = _event("payment" if type != "payment" else "visit",
                    {"amount": 1, "currency": "EUR"} if type != "payment" else {}, 0)  # fmt: skip
    for allow_back in (True, False):
        pipeline = _pipeline(type, allow_back)
        async with session(api.engine.deps.engine) as db:
            await save_pipeline(db, pipeline)
            await db.commit()
        order = new_order(pipeline.id)
        await api.engine.orders.create_order(order)
        await eventually(lambda order_id=order.order_id: ready_view(api.engine.orders, order_id))
        if other is not None:
            assert await send(api, order.order_id, _event(type, other, 1)) == "start"
        assert await send(api, order.order_id, _event(type, matching, 2)) == "target"
        assert await send(api, order.order_id, onward) == "later"
        expected = "target" if allow_back else "later"
        assert await send(api, order.order_id, _event(type, matching, 3)) == expected
