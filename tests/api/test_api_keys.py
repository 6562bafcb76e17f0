"""API keys: every route but the signed ones needs one, with the route's scope; a key limited
to pipelines reaches only their orders; a refused call changes nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import select
from temporalio.service import RPCError

from activities.rules.base import WorkerResources
from api.app import AREAS
from automation.pipeline import parse_pipeline
from store.access import key_problems
from store.database import session
from store.tables import Order
from store.tables_access import ApiKey
from tests.api.conftest import PIPELINE, Api, bearer, new_key, revoke
from tests.conftest import seed
from tests.helpers import eventually, new_order

PUBLIC = ("/webhooks/", "/t/", "/codec/sign-in", "/catalog")
"""Signed routes, which keep their own checks, the codec server's sign-in page and the catalog."""
OTHER = parse_pipeline("""
id: other
title: Another shop
stages:
  - {id: new, title: New}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
""")
PAYMENT = {"type": "payment", "data": {"amount": 10, "currency": "EUR"}}


def _routes() -> list[tuple[str, str]]:
    """(method, path with its parameters filled in) of every route of the API (the
    tracking links' too, which the OpenAPI schema leaves out)."""
    return [
        (method, re.sub(r"\{[^}]+\}", "x1", route.path))
        for area in AREAS
        for route in area.router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


async def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api.url, headers=headers) as http:
        return await http.request(method, path, json=PAYMENT if method == "POST" else None)


@pytest.mark.parametrize("key", ["none", "not bearer", "unknown", "too long", "revoked"])
async def test_every_route_but_the_signed_ones_refuses_a_call_without_a_valid_key(api: Api, key: str) -> None:
    engine = api.engine.deps.engine
    revoked = await new_key(engine)
    revoked_id = await revoke(engine, revoked)
    headers = {
        "none": {},
        "not bearer": {"Authorization": f"Basic {revoked}"},
        "unknown": bearer("oak_0123456789_" + "x" * 43),
        "too long": bearer("oak_" + "x" * 5000),
        "revoked": bearer(revoked),
    }[key]
    expected = {
        "none": "an API key is needed: Authorization: Bearer <key> (made with `orders keys create`)",
        "not bearer": "an API key is needed: Authorization: Bearer <key> (made with `orders keys create`)",
        "unknown": "unknown API key",
        "too long": "unknown API key",
        "revoked": f"API key {revoked_id} was revoked",
    }[key]
    routes = _routes()
    protected = [(method, path) for method, path in routes if not path.startswith(PUBLIC)]
    assert len(protected) == 26 and len(routes) - len(protected) == 7
    for method, path in protected:
        response = await _call(api, method, path, headers)
        assert (response.status_code, response.json()) == (401, {"detail": expected}), (method, path)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for method, path in set(routes) - set(protected):  # their own checks answer, not the key's
        response = await _call(api, method, path, headers)
        assert "WWW-Authenticate" not in response.headers, (method, path)


async def test_a_refused_call_changes_nothing(api: Api) -> None:
    """No order made, no event applied: the key is checked before anything is used."""
    order = new_order(PIPELINE.id)
    reader = bearer(await new_key(api.engine.deps.engine, "orders:read"))
    for headers in ({}, reader):
        async with httpx.AsyncClient(base_url=api.url, headers=headers) as http:
            created = await http.post("/orders", json=order.model_dump(mode="json"))
        assert created.status_code in (401, 403)
    async with httpx.AsyncClient(base_url=api.url) as http:  # no key: 401 before the body is read
        unread = await http.post("/orders", content=b"{not json", headers={"Content-Type": "application/json"})
    assert unread.status_code == 401
    async with session(api.engine.deps.engine) as db:
        assert await db.get(Order, order.order_id) is None
    with pytest.raises(RPCError):
        await api.engine.orders.handle(order.order_id).describe()

    assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    async with httpx.AsyncClient(base_url=api.url, headers=reader) as http:
        refused = await http.post(f"/orders/{order.order_id}/events?wait=true", json=PAYMENT)
        assert refused.status_code == 403
        assert refused.json()["detail"].endswith("lacks the scope 'events:write' (it has orders:read)")
        view = (await http.get(f"/orders/{order.order_id}")).json()  # reading is its scope
    assert view["stage"] == "new"
    assert not [e for e in view["timeline"] if e["kind"] == "event_received"]


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["events:write"], {"POST /orders/x1/events", "POST /customers/x1/events", "POST /contacts/events"}),
        (
            ["orders:read"],
            {"GET /orders/x1", "GET /orders/x1/timeline", "GET /orders/x1/test-log", "GET /orders", "GET /messages"},
        ),
        (["orders:write"], {"POST /orders", "POST /messages/x1/resend", "POST /orders/x1/skip-pause"}),
        (["payloads:decode"], {"POST /codec/decode", "POST /codec/encode"}),
    ],
)
async def test_each_scope_opens_its_routes_only(api: Api, scopes: list[str], allowed: set[str]) -> None:
    headers = bearer(await new_key(api.engine.deps.engine, *scopes))
    for method, path in _routes():
        if path.startswith(PUBLIC):
            continue
        status = (await _call(api, method, path, headers)).status_code
        route = f"{method} {path}"
        assert (status != 403) == (route in allowed), (route, status)
        assert status != 401


async def test_a_key_limited_to_a_pipeline_reaches_its_orders_only(api: Api) -> None:
    engine = api.engine.deps.engine
    await seed(engine, OTHER)
    mine, theirs = new_order(OTHER.id), new_order(PIPELINE.id)
    for order in (mine, theirs):
        assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    limited = bearer(await new_key(engine, "admin", pipelines=[OTHER.id]))
    async with httpx.AsyncClient(base_url=api.url, headers=limited) as http:
        assert (await http.get(f"/orders/{mine.order_id}")).status_code in (200, 409)  # 409: still starting
        only = " (it may act on pipelines other only)"
        for response in (
            await http.get(f"/orders/{theirs.order_id}"),
            await http.get(f"/orders/{theirs.order_id}/timeline"),
            await http.post(f"/orders/{theirs.order_id}/events", json=PAYMENT),
            await http.get("/orders/no-such-order"),  # refused alike: nothing said of other pipelines
        ):
            assert response.status_code == 403
            assert response.json()["detail"].startswith("this API key may not act on order ")
            assert response.json()["detail"].endswith(only)
        taken = await http.post("/orders", json={**theirs.model_dump(mode="json"), "pipeline_id": OTHER.id})
        assert taken.status_code == 403 and taken.json()["detail"].endswith(only)  # its id, another pipeline's
        made = await http.post("/orders", json=new_order(PIPELINE.id).model_dump(mode="json"))
        assert made.json()["detail"] == f"this API key may not act on pipeline {PIPELINE.id!r}{only}"
        assert (await http.get("/orders", params={"pipeline": PIPELINE.id})).status_code == 403

        async def both_listed() -> list[dict[str, Any]] | None:
            found = (await api.http.get("/orders")).json()
            ids = {o["order_id"] for o in found}
            return found if {mine.order_id, theirs.order_id} <= ids else None

        await eventually(both_listed)
        listed = {o["order_id"] for o in (await http.get("/orders")).json()}
        assert mine.order_id in listed and theirs.order_id not in listed

        visit = {"type": "visit", "data": {}}
        reached = await http.post(f"/customers/{theirs.customer.id}/events", json=visit)  # type: ignore[union-attr]
        assert reached.json()["orders"] == []
        reached = await http.post(f"/customers/{mine.customer.id}/events", json=visit)  # type: ignore[union-attr]
        assert reached.json()["orders"] == [mine.order_id]
        email = theirs.customer.emails[0].value  # type: ignore[union-attr]
        found = (await http.post("/contacts/events", params={"email": email}, json=visit)).json()
        assert (found["customers"], found["orders"]) == ([], [])  # another pipeline's customer: not named

        async def theirs_mailed() -> bool:
            listed = (await api.http.get("/messages", params={"order_id": theirs.order_id})).json()
            return bool(listed)

        await eventually(theirs_mailed)
        assert [m for m in (await http.get("/messages")).json() if m["order_id"] == theirs.order_id] == []


async def test_the_openapi_schema_declares_the_key(api: Api) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key, made with `orders keys create`: `Authorization: Bearer oak_...`",
    }
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            assert (operation.get("security") == [{"ApiKey": []}]) != path.startswith(PUBLIC), path


async def test_the_store_keeps_a_hash_of_the_secret_only(deps: WorkerResources) -> None:
    secret = await new_key(deps.engine, "orders:read")
    async with session(deps.engine) as db:
        rows = (await db.exec(select(ApiKey))).all()
    stored = " ".join(str(row.model_dump()) for row in rows)
    key_id = secret.split("_")[1]
    assert secret not in stored and secret.split("_", 2)[2] not in stored
    assert key_id in stored  # its public id is listed


def test_a_key_that_may_decode_payloads_cannot_be_limited_to_pipelines() -> None:
    assert key_problems("ops", ["payloads:decode"], ["shop"]) == [
        "payloads:decode cannot be limited to pipelines: the codec server decodes any order's payloads"
    ]
