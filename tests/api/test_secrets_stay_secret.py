"""Secrets stay secret: after a run that uses every one of them (API keys, a pipeline's
webhook secret, the tracking secret, the SMS and chat providers' tokens, the payload key),
and calls that fail on purpose, none of them is in what the run wrote: its logs, the
answers and errors of the API, its OpenAPI schema, the orders' timelines in the store and
their histories in Temporal."""

from __future__ import annotations

import base64
import logging
import time

import httpx
import pytest
from sqlmodel import select
from temporalio.api.history.v1 import History

from api.signatures import signature
from automation.order import workflow_id
from automation.pipeline import parse_pipeline
from store.database import session
from store.tables import PipelineRecord, TimelineRecord
from tests.api.conftest import Api, bearer, new_key, revoke
from tests.conftest import PAYLOAD_KEYS, Mailbox, seed
from tests.helpers import eventually, new_order, ready_view
from tests.providers_server import AUTH_TOKEN, CHAT_TOKEN, ProvidersServer

PIPELINE = parse_pipeline("""
id: secretive
title: Secretive
stages:
  - id: new
    title: New
    rules:
      - {type: send_email, params: {subject: "Your order", body: "Track it: https://shop.example/t/1"}}
      - {type: send_sms, params: {text: "Order {{ order.id }} received"}}
  - {id: hooked, title: Hooked, triggers: [{type: webhook, params: {code: abc12}}]}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
""")


async def test_no_secret_is_in_what_a_run_wrote(
    api: Api, smtp: Mailbox, providers_server: ProvidersServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the worker logs (worker.configure_logging)
    engine = api.engine.deps.engine
    await seed(engine, PIPELINE)
    async with session(engine) as db:
        record = await db.get(PipelineRecord, PIPELINE.id)
    assert record is not None
    admin = api.http.headers["Authorization"].removeprefix("Bearer ")
    revoked = await new_key(engine, "orders:read")
    await revoke(engine, revoked)
    secrets = {
        "an admin key": admin,
        "a revoked key": revoked,
        "a webhook secret": record.webhook_secret,
        "the tracking secret": api.engine.deps.settings.tracking_secret,
        "the SMS token": AUTH_TOKEN,
        "the chat token": CHAT_TOKEN,
        "the payload key": base64.b64decode(PAYLOAD_KEYS.split(":")[1]).hex(),
        "the payload key, base64": PAYLOAD_KEYS.split(":")[1],
    }

    providers_server.fail_next(status=503, times=1)  # the provider fails once: a retry, logged
    order = new_order(PIPELINE.id)
    answers = [await api.http.post("/orders", json=order.model_dump(mode="json"))]
    await eventually(lambda: _sent(smtp, providers_server))
    target = f"ORDER_{order.order_id}"
    timestamp = str(int(time.time()))
    good = signature(record.webhook_secret, timestamp, target, "abc12", b"{}")
    async with httpx.AsyncClient(base_url=api.url) as anyone:
        forged = "sha256=" + "0" * 64
        for mac in (good, forged):
            headers = {"X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": mac}
            params = {"target": target, "code": "abc12"}
            answers.append(await anyone.post(f"/webhooks/{PIPELINE.id}", params=params, content=b"{}", headers=headers))
        for key in (revoked, admin[:-1] + "x", "oak_" + record.webhook_secret):
            answers.append(await anyone.get(f"/orders/{order.order_id}", headers=bearer(key)))
        answers.append(await anyone.get("/openapi.json"))
    answers.append(await api.http.post(f"/orders/{order.order_id}/events?wait=true", json=_payment()))
    answers.append(await api.http.get(f"/orders/{order.order_id}/timeline"))
    answers.append(await api.http.get("/messages"))
    view = await ready_view(api.engine.orders, order.order_id)
    assert view is not None and view.stage == "paid"

    async with session(engine) as db:
        timeline = (await db.exec(select(TimelineRecord).where(TimelineRecord.order_id == order.order_id))).all()
    history = await api.engine.client.get_workflow_handle(workflow_id(order.order_id)).fetch_history()
    written = {
        "the logs": caplog.text,
        "the API's answers": "\n".join(f"{r.headers}\n{r.text}" for r in answers),
        "the timeline": "\n".join(f"{row.message} {row.data}" for row in timeline),
        "the history": History(events=history.events).SerializeToString().decode(errors="replace"),
    }
    assert len(timeline) > 5 and "sms" in caplog.text.lower() + written["the timeline"].lower()
    leaks = [
        f"{what} in {where}" for what, secret in secrets.items() for where, text in written.items() if secret in text
    ]
    assert leaks == []


def _payment() -> dict[str, object]:
    return {"type": "payment", "data": {"amount": 10, "currency": "EUR"}}


async def _sent(smtp: Mailbox, providers: ProvidersServer) -> bool:
    return bool(smtp.messages) and bool(providers.of("sms"))
