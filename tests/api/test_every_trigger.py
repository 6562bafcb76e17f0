"""Every trigger of the catalog, fired through the HTTP API and directly through
Temporal: it moves the order forward to its stage, back only where allowed, and not at
all when its parameters or condition do not accept the event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from automation.events import EVENT_TYPES, Source
from automation.pipeline import Pipeline
from automation.state import OrderView
from store.database import session
from store.pipelines import save_pipeline
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


def test_the_cases_cover_the_whole_catalog() -> None:
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
    return (await api.engine.orders.apply_event(order_id, event, "temporal")).stage


SOURCES: dict[str, Source] = {"api": "service", "temporal": "temporal"}
"""How a test sends: through the HTTP API (a service), or as a client of Temporal itself."""
ALLOWED = [(t, via) for t in sorted(CASES) for via in SOURCES if EVENT_TYPES[t].refusal(SOURCES[via]) is None]
REFUSED = [(t, via) for t in sorted(CASES) for via in SOURCES if EVENT_TYPES[t].refusal(SOURCES[via]) is not None]


def test_only_what_the_engine_raises_or_signed_urls_send_is_closed_to_callers() -> None:
    assert sorted({t for t, _ in REFUSED}) == [
        "document_created", "document_opened", "email_link_clicked", "email_sent", "email_viewed", "webhook",
    ]  # fmt: skip
    assert {t for t, via in REFUSED if via == "temporal"} == {"document_created", "email_sent"}


async def _save(api: Api, pipeline: Pipeline) -> None:
    async with session(api.engine.deps.engine) as db:
        await save_pipeline(db, pipeline)
        await db.commit()


@pytest.mark.parametrize(("type", "via"), ALLOWED)
async def test_trigger(api: Api, type: str, via: str) -> None:
    send = _send_api if via == "api" else _send_temporal
    _, matching, other = CASES[type]
    onward = _event("payment" if type != "payment" else "visit",
                    {"amount": 1, "currency": "EUR"} if type != "payment" else {}, 0)  # fmt: skip
    for allow_back in (True, False):
        pipeline = _pipeline(type, allow_back)
        await _save(api, pipeline)
        order = new_order(pipeline.id)
        await api.engine.orders.create_order(order)

        async def started(order_id: str = order.order_id) -> OrderView | None:
            return await ready_view(api.engine.orders, order_id)

        await eventually(started)
        if other is not None:
            assert await send(api, order.order_id, _event(type, other, 1)) == "start"
        assert await send(api, order.order_id, _event(type, matching, 2)) == "target"
        assert await send(api, order.order_id, onward) == "later"
        expected = "target" if allow_back else "later"
        assert await send(api, order.order_id, _event(type, matching, 3)) == expected


@pytest.mark.parametrize(("type", "via"), REFUSED)
async def test_an_event_a_caller_may_not_send_is_refused_and_changes_nothing(api: Api, type: str, via: str) -> None:
    pipeline = _pipeline(type, allow_back=False)
    await _save(api, pipeline)
    order = new_order(pipeline.id)
    await api.engine.orders.create_order(order)
    before = await eventually(lambda: ready_view(api.engine.orders, order.order_id))
    refusal = EVENT_TYPES[type].refusal(SOURCES[via])
    event = _event(type, CASES[type][1], 1)
    if via == "api":
        response = await api.http.post(f"/orders/{order.order_id}/events?wait=true", json=event)
        assert (response.status_code, response.json()["errors"]) == (422, [f"type: {refusal}"])
    else:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await api.engine.client.get_workflow_handle(f"order-{order.order_id}").execute_update("apply_event", event)
        assert list(refused.value.cause.details) == [f"type: {refusal}"]  # type: ignore[attr-defined]
        await api.engine.orders.handle(order.order_id).signal("event", event)  # a raw signal: refused in the timeline
        await eventually(lambda: _refused(api, order.order_id))
    after = await api.engine.orders.state(order.order_id)
    assert (after.stage, after.fields) == (before.stage, before.fields) == ("start", before.fields)


async def _refused(api: Api, order_id: str) -> bool:
    view = await api.engine.orders.state(order_id)
    return any(
        entry.kind == "event_refused" and "raised only by the engine" in entry.message for entry in view.timeline
    )


RAISED = Pipeline.model_validate({
    "id": "raised",
    "title": "Raised by the engine",
    "stages": [
        {"id": "start", "title": "Start", "rules": [{"type": "create_document", "params": {"template_id": "invoice"}}]},
        {"id": "documented", "title": "Documented",
         "triggers": [{"type": "document_created", "params": {"template_id": "invoice"}}],
         "rules": [{"type": "send_email", "params": {"subject": "Your invoice", "body": "Here it is."}}]},
        {"id": "mailed", "title": "Mailed", "triggers": [{"type": "email_sent"}]},
        {"id": "done", "title": "Done", "final": "success"},
    ],
})  # fmt: skip


async def test_the_events_only_the_engine_raises_fire_their_triggers(api: Api) -> None:
    await _save(api, RAISED)
    order = new_order("raised")
    await api.engine.orders.create_order(order)

    async def mailed() -> bool:
        view = await ready_view(api.engine.orders, order.order_id)
        return view is not None and view.stage == "mailed"

    await eventually(mailed)
