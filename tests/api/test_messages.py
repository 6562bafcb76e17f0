"""Messages whose fate is unknown, as an operator handles them: the order counts them, the
API and the CLI list them, and a resend, on an operator's explicit decision, is recorded in
the order's timeline; the engine never resends by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from automation.pipeline import parse_pipeline
from store.database import session
from store.pipelines import save_pipeline
from tests.api.conftest import Api
from tests.conftest import ROOT
from tests.helpers import eventually, new_order, ready_view
from tests.providers_server import ProvidersServer

TEXTING = parse_pipeline(
    """
id: texting
title: Texting
stages:
  - id: new
    title: New
    rules:
      - {type: send_sms, params: {text: "Order {{ order.id }} received"}}
  - {id: done, title: Done, final: success}
"""
)


async def _unconfirmed(api: Api, order_id: str) -> list[dict[str, Any]] | None:
    found = (await api.http.get("/messages", params={"status": "unconfirmed", "order_id": order_id})).json()
    return found or None


async def test_an_unconfirmed_message_is_counted_listed_and_resent_on_an_operators_decision(
    api: Api, providers_server: ProvidersServer
) -> None:
    async with session(api.engine.deps.engine) as db:
        await save_pipeline(db, TEXTING)
        await db.commit()
    providers_server.lose_next_response()  # the provider takes the SMS, its answer is lost
    order = new_order("texting")
    assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    [listed] = await eventually(lambda: _unconfirmed(api, order.order_id))
    assert (listed["channel"], listed["recipient"]) == ("sms", "+15550100")
    assert "did not answer" in listed["note"]

    async def counted() -> Any:
        view = await ready_view(api.engine.orders, order.order_id)
        return view if view is not None and view.unconfirmed_messages == 1 else None

    await eventually(counted)
    assert len(providers_server.delivered) == 1  # and nothing more on its own

    cli = subprocess.run(
        [sys.executable, "starter.py", "messages", "--status", "unconfirmed", "--order", order.order_id],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": api.engine.deps.engine.url.render_as_string(hide_password=False)},
    )  # fmt: skip
    assert cli.returncode == 0 and listed["run_key"] in cli.stdout and "1 message(s)" in cli.stdout

    resent = await api.http.post(f"/messages/{listed['run_key']}/resend", json={"by": "ops-ana"})
    assert (resent.status_code, resent.json()["status"]) == (200, "sent"), resent.text
    assert len(providers_server.delivered) == 2
    view = await api.engine.orders.state(order.order_id)
    assert view.unconfirmed_messages == 0
    said = [e.message for e in view.timeline if e.kind == "message_resend"]
    assert said[0] == f"message {listed['run_key']}: resend asked by ops-ana"
    assert said[1].startswith(f"message {listed['run_key']} resent by ops-ana: sms to +15550100 sent")

    again = await api.http.post(f"/messages/{listed['run_key']}/resend", json={"by": "ops-ana"})
    assert again.status_code == 422
    assert again.json()["detail"] == f"message {listed['run_key']} is sent: only an unconfirmed message is resent"
    assert len(providers_server.delivered) == 2
