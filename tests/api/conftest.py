"""The HTTP API on a real socket, in front of a real worker and dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from api.app import create_app
from api.server import serving
from automation.pipeline import parse_pipeline
from order_client import OrderClient
from store.access import create_key, key_of, revoke_key
from store.database import session
from tests.conftest import Engine, running_engine, seed

PIPELINE = parse_pipeline(
    """
id: shop
title: Shop
stages:
  - id: new
    title: New
    rules:
      - type: create_document
        params: {template_id: invoice, title: "Invoice {{ order.id }}"}  # the example directory's template
      - type: send_email
        after_previous: true
        params:
          subject: "Your order {{ order.id }}"
          body: "Invoice: {{ variables.document_url }} Pay: https://shop.example/pay/{{ order.id }}"
  - id: viewed
    title: E-mail viewed
    triggers: [{type: email_viewed}]
  - id: invoice_opened
    title: Invoice opened
    triggers: [{type: document_opened, params: {template_id: invoice}}]
  - id: paying
    title: Paying
    triggers: [{type: email_link_clicked, params: {url: "https://shop.example/pay/"}}]
  - id: paid
    title: Paid
    triggers: [{type: payment}]
  - id: hooked
    title: Webhook called
    triggers: [{type: webhook, params: {code: abc12}}]
  - id: done
    title: Done
    final: success
    triggers: [{type: shipped}]
"""
)


@dataclass
class Api:
    http: httpx.AsyncClient
    """Calls with an admin key."""
    engine: Engine
    url: str


async def new_key(engine: AsyncEngine, *scopes: str, pipelines: list[str] | None = None) -> str:
    """A new API key's secret (an admin key unless ``scopes`` say otherwise)."""
    async with session(engine) as db:
        made = await create_key(db, "tests", list(scopes or ["admin"]), pipelines, "user:tests")
        await db.commit()
    return made.secret


async def revoke(engine: AsyncEngine, secret: str) -> str:
    """Revokes the key of that secret; its id."""
    async with session(engine) as db:
        key = await key_of(db, secret)
        assert key is not None
        await revoke_key(db, key.id, "user:tests")
        await db.commit()
    return key.id


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def admin_client(url: str, engine: AsyncEngine) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers=bearer(await new_key(engine)))


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, deps: WorkerResources, api_port: int) -> AsyncIterator[Api]:
    await seed(deps.engine, PIPELINE)
    async with running_engine(dev_env, deps) as engine:
        app = create_app(engine.orders, deps.engine, deps.settings)
        async with serving(app, "127.0.0.1", api_port) as url, await admin_client(url, deps.engine) as http:
            yield Api(http, engine, url)


@pytest.fixture
async def admin(dev_env: WorkflowEnvironment, deps: WorkerResources, api_port: int) -> AsyncIterator[httpx.AsyncClient]:
    """The API with no worker (for routes that use the store only), called with an admin key."""
    app = create_app(OrderClient(dev_env.client), deps.engine, deps.settings)
    headers = bearer(await new_key(deps.engine))
    async with serving(app, "127.0.0.1", api_port) as url, httpx.AsyncClient(base_url=url, headers=headers) as http:
        yield http
