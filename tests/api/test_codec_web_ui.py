"""The Temporal Web UI, in a real headless Chromium: an ops person signed in to the codec
server sees an order's input decoded; a browser without a session sees only ciphertext."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from api.app import create_app
from api.server import serving
from automation import search
from automation.order import workflow_id
from devserver import free_port
from order_client import runtime
from tests.api.conftest import PIPELINE, new_key
from tests.browser import Page, browser
from tests.conftest import _binary, data_converter, running_engine, seed
from tests.helpers import eventually, new_order, ready_view


@pytest.fixture
async def ui_env() -> AsyncIterator[tuple[WorkflowEnvironment, int]]:
    """A dev server with its Web UI."""
    port = free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"), data_converter=data_converter, runtime=runtime(),
        search_attributes=search.ALL, ui=True, ui_port=port,
    )  # fmt: skip
    async with env:
        yield env, port


async def _configure_codec(page: Page, ui: str, endpoint: str) -> None:
    """The UI's Codec Server settings, as its settings dialog stores them in the browser."""
    await page.goto(ui)
    settings = {"endpoint": endpoint, "includeCredentials": True, "overrideRemoteCodecConfiguration": True}
    for name, value in settings.items():
        await page.evaluate(f"localStorage.setItem({json.dumps(name)}, {json.dumps(json.dumps(value))})")


async def _text_within(page: Page, wanted: str, seconds: float) -> str:
    text = ""
    for _ in range(int(seconds * 4)):
        text = await page.text()
        if wanted in text:
            return text
        await asyncio.sleep(0.25)
    return text


async def test_the_web_ui_shows_an_order_decoded_to_a_signed_in_browser_only(
    ui_env: tuple[WorkflowEnvironment, int], deps: WorkerResources, api_port: int, tmp_path: Path
) -> None:
    """Screenshots of each step go to the test's folder (those in docs/screenshots are from it)."""
    env, ui_port = ui_env
    ui, api = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{api_port}"
    await seed(deps.engine, PIPELINE)
    settings = deps.settings.model_copy(update={"codec_origins": [ui]})
    order = new_order(PIPELINE.id)
    assert order.customer is not None
    page_of_order = f"{ui}/namespaces/{env.client.namespace}/workflows/{workflow_id(order.order_id)}"
    async with running_engine(env, deps) as engine, serving(create_app(engine.orders, deps.engine, settings),
                                                            "127.0.0.1", api_port):  # fmt: skip
        await engine.orders.create_order(order)
        await eventually(lambda: ready_view(engine.orders, order.order_id))
        secret = await new_key(deps.engine, "payloads:decode")

        async with browser() as page:  # an ops person: signs in, then opens the order
            await _configure_codec(page, ui, f"{api}/codec")
            await page.goto(f"{api}/codec/sign-in")
            await page.screenshot(tmp_path / "codec-sign-in.png")
            await page.evaluate(f"document.querySelector('input[name=key]').value = {json.dumps(secret)}")
            await page.evaluate("document.forms[0].submit()")
            await asyncio.sleep(0.5)
            signed_in = await _text_within(page, "Signed in with key", 10)
            assert "Signed in with key" in signed_in, signed_in
            await page.goto(page_of_order)
            decoded = await _text_within(page, order.customer.last_name, 30)
            await page.screenshot(tmp_path / "web-ui-decoded.png")
        assert order.customer.last_name in decoded

        async with browser() as page:  # someone without a session, the same settings
            await _configure_codec(page, ui, f"{api}/codec")
            await page.goto(page_of_order)
            shown = await _text_within(page, order.customer.last_name, 10)
            await page.screenshot(tmp_path / "web-ui-encrypted.png")
        assert order.customer.last_name not in shown
        assert workflow_id(order.order_id) in shown
