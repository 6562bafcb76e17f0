"""The public routes (webhooks, tracking links) limit requests by source and by target: past
the limit a 429 with Retry-After, before the store or Temporal is asked anything, so that
a flood of forged calls leaves real events alone."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.rate_limit import RateLimit
from api.server import serving
from api.signatures import signature
from automation.pipeline import parse_pipeline
from devserver import free_port
from store.database import session
from store.tables import PipelineRecord
from tests.api.conftest import Api, bearer, new_key
from tests.conftest import seed
from tests.helpers import eventually, new_order, ready_view


def test_a_bucket_refills_at_its_rate_and_forgets_the_oldest_keys() -> None:
    now = [0.0]
    limit = RateLimit(per_minute=6, keys=2, clock=lambda: now[0])
    assert [limit.take("a") for _ in range(7)] == [None] * 6 + [10]  # one more in 10 s
    now[0] = 10.0
    assert (limit.take("a"), limit.take("a")) == (None, 10)
    limit.take("b"), limit.take("c")  # "a" is forgotten: a new key starts full
    assert [limit.take("a") for _ in range(6)] == [None] * 6


@asynccontextmanager
async def _limited_api(api: Api, source: int, target: int) -> AsyncIterator[str]:
    settings = api.engine.deps.settings.model_copy(
        update={"public_source_per_minute": source, "public_target_per_minute": target}
    )
    app = create_app(api.engine.orders, api.engine.deps.engine, settings)
    async with serving(app, "127.0.0.1", free_port()) as url:
        yield url


@contextmanager
def _store_reads(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement the store runs meanwhile."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append(f"{statement} {parameters}")

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _signed(http: httpx.AsyncClient, secret: str, target: str, code: str, body: bytes) -> httpx.Response:
    timestamp = str(int(time.time()))
    headers = {
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": signature(secret, timestamp, target, code, body),
    }
    return await http.post("/webhooks/shop", params={"target": target, "code": code}, content=body, headers=headers)


FLOODED = parse_pipeline("""
id: flooded
title: Flooded
stages:
  - {id: new, title: New}
  - {id: hooked, title: Hooked, final: success, triggers: [{type: webhook, params: {code: abc12}}]}
""")


async def test_a_flood_of_forged_calls_is_refused_before_the_store_and_real_events_go_on(api: Api) -> None:
    await seed(api.engine.deps.engine, FLOODED)
    order = new_order("shop")
    assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    payment = {"type": "payment", "data": {"amount": 10, "currency": "EUR"}}
    unhurried = httpx.Timeout(30, pool=None)  # 400 requests at once wait for a connection
    async with (
        _limited_api(api, source=20, target=5) as url,
        httpx.AsyncClient(base_url=url, timeout=unhurried) as public,
    ):
        key = bearer(await new_key(api.engine.deps.engine, "events:write", "orders:read"))
        with _store_reads(api.engine.deps.engine) as reads:
            service = httpx.AsyncClient(base_url=url, headers=key, timeout=unhurried)
            forged = {"X-Webhook-Timestamp": str(int(time.time())), "X-Webhook-Signature": "sha256=" + "0" * 64}
            flood = [
                public.post(
                    f"/webhooks/{FLOODED.id}",  # a pipeline of its own: its reads are the flood's
                    params={"target": f"ORDER_{order.order_id}", "code": "abc12"},
                    content=b"{}",
                    headers=forged,
                )
                for _ in range(150)
            ] + [public.get(f"/t/open/forged-{i}") for i in range(50)]
            real = [
                service.post(f"/orders/{order.order_id}/events", json=payment, headers={"Idempotency-Key": f"pay-{i}"})
                for i in range(10)
            ]
            start = time.monotonic()
            answers = await asyncio.gather(*flood, *real)
            refilled = math.ceil((time.monotonic() - start) * 20 / 60)  # the bucket refills meanwhile
            await service.aclose()
    flooded, served = answers[: len(flood)], answers[len(flood) :]
    assert [r.status_code for r in served] == [202] * 10
    let_through = [r for r in flooded if r.status_code != 429]
    assert 20 <= len(let_through) <= 20 + refilled  # one source: 20 a minute, webhooks and links alike
    assert {r.headers["Retry-After"] for r in flooded if r.status_code == 429} <= {"1", "2", "3"}
    assert all(r.status_code in (200, 401) for r in let_through)  # a pixel, or a bad signature
    pipeline_reads = [s for s in reads if "FROM pipelines" in s and FLOODED.id in s]
    assert 0 < len(pipeline_reads) <= len(let_through)  # a refused call never reached the store

    async def all_applied() -> bool:
        view = await ready_view(api.engine.orders, order.order_id)
        received = {e.data["event"]["event_id"] for e in view.timeline if e.kind == "event_received"} if view else set()
        return {f"pay-{i}" for i in range(10)} <= received

    await eventually(all_applied)


async def test_signed_calls_to_one_order_are_limited_and_others_keep_their_share(api: Api) -> None:
    async with session(api.engine.deps.engine) as db:
        record = await db.get(PipelineRecord, "shop")
    assert record is not None
    orders = [new_order("shop") for _ in range(2)]
    for order in orders:
        assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    async with _limited_api(api, source=100, target=3) as url, httpx.AsyncClient(base_url=url) as public:
        first = [
            await _signed(
                public, record.webhook_secret, f"ORDER_{orders[0].order_id}", "abc12", f'{{"n": {i}}}'.encode()
            )
            for i in range(5)
        ]
        other = await _signed(public, record.webhook_secret, f"ORDER_{orders[1].order_id}", "abc12", b"{}")
    assert [r.status_code for r in first][3:] == [429, 429]
    assert first[3].json() == {"result": False, "error": "too many requests", "reason": "retry in 20 s"}
    assert first[3].headers["Retry-After"] == "20"
    assert other.status_code != 429
