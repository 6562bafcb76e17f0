"""The codec server: with a key that may decode, the ``temporal`` CLI shows an order's
history decrypted; without one, ciphertext. The Web UI's origin may call it."""

from __future__ import annotations

import asyncio
import base64
import re

import httpx
from temporalio.testing import WorkflowEnvironment

from api.auth import EXPIRED
from api.codec_session import COOKIE
from automation.order import workflow_id
from tests.api.conftest import Api, bearer, new_key, revoke
from tests.conftest import _binary
from tests.helpers import eventually, new_order, ready_view

ENCRYPTED = base64.b64encode(b"binary/encrypted").decode()
PLAIN = {
    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
    "data": base64.b64encode(b'"Ada"').decode(),
}


async def _cli_history(env: WorkflowEnvironment, order_id: str, *codec: str) -> str:
    """``temporal workflow show`` of the order, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        _binary("temporal"), "workflow", "show", "--workflow-id", workflow_id(order_id), "--output", "json",
        "--address", env.client.service_client.config.target_host, "--namespace", env.client.namespace, *codec,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


def _data(shown: str) -> str:
    """What the payloads the CLI shows hold (their ``data``, base64 in its JSON)."""
    return " ".join(base64.b64decode(data).decode(errors="replace") for data in re.findall(r'"data": "([^"]+)"', shown))


async def test_the_temporal_cli_shows_an_order_decrypted_through_the_codec_server(
    api: Api, dev_env: WorkflowEnvironment
) -> None:
    order = new_order("shop")
    assert order.customer is not None
    assert (await api.http.post("/orders", json=order.model_dump(mode="json"))).status_code == 201
    await eventually(lambda: ready_view(api.engine.orders, order.order_id))
    decoder = await new_key(api.engine.deps.engine, "payloads:decode")
    endpoint = ["--codec-endpoint", f"{api.url}/codec"]

    decoded = _data(await _cli_history(dev_env, order.order_id, *endpoint, "--codec-auth", f"Bearer {decoder}"))
    assert order.customer.last_name in decoded and order.customer.emails[0].value in decoded
    shown = await _cli_history(dev_env, order.order_id)  # without the codec server: ciphertext
    assert ENCRYPTED in shown
    assert order.customer.last_name not in _data(shown) and order.customer.emails[0].value not in _data(shown)


async def test_decoding_needs_its_scope_and_encode_then_decode_gives_the_payload_back(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        assert (await http.post("/codec/decode", json={"payloads": [PLAIN]})).status_code == 401
        reader = bearer(await new_key(api.engine.deps.engine, "orders:read"))
        refused = await http.post("/codec/decode", json={"payloads": [PLAIN]}, headers=reader)
        assert refused.status_code == 403 and "lacks the scope 'payloads:decode'" in refused.json()["detail"]

        limited = bearer(await new_key(api.engine.deps.engine, "admin", pipelines=["shop"]))
        refused = await http.post("/codec/decode", json={"payloads": [PLAIN]}, headers=limited)
        assert refused.status_code == 403 and "is limited to pipelines: payloads:decode needs" in refused.text
        decoder = bearer(await new_key(api.engine.deps.engine, "payloads:decode"))
        encoded = (await http.post("/codec/encode", json={"payloads": [PLAIN]}, headers=decoder)).json()
        sealed = encoded["payloads"][0]
        assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
        assert b"Ada" not in base64.b64decode(sealed["data"])
        decoded = await http.post("/codec/decode", json=encoded, headers=decoder)
        assert decoded.json() == {"payloads": [PLAIN]}
        garbled = {"payloads": [{**sealed, "data": base64.b64encode(b"x" * 40).decode()}]}
        bad = await http.post("/codec/decode", json=garbled, headers=decoder)
        assert (bad.status_code, bad.json()["errors"]) == (
            422, ["payloads: a payload that key 'tests' cannot decrypt (altered, or another key)"]
        )  # fmt: skip


async def test_the_web_uis_origin_may_call_the_codec_server_and_no_other(api: Api) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with httpx.AsyncClient(base_url=api.url) as http:
        ui = await http.options("/codec/decode", headers={"Origin": "http://localhost:8233", **preflight})
        other = await http.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
        elsewhere = await http.options("/orders", headers={"Origin": "http://localhost:8233", **preflight})
    assert ui.status_code == 200 and ui.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in elsewhere.headers  # the rest of the API is not for browsers


async def test_a_browser_session_decodes_until_its_key_is_revoked_and_cannot_be_forged(api: Api) -> None:
    engine = api.engine.deps.engine
    secret = await new_key(engine, "payloads:decode")
    body = {"payloads": [PLAIN]}
    async with httpx.AsyncClient(base_url=api.url) as browser:
        refused = await browser.post("/codec/sign-in", data={"key": "oak_nope"})
        assert refused.status_code == 401 and "unknown API key" in refused.text and COOKIE not in browser.cookies
        limited = await new_key(engine, "admin", pipelines=["shop"])
        assert (await browser.post("/codec/sign-in", data={"key": limited})).status_code == 403
        signed = await browser.post("/codec/sign-in", data={"key": secret})
        assert signed.status_code == 200 and "Signed in with key" in signed.text
        assert "HttpOnly" in signed.headers["set-cookie"] and "SameSite=strict" in signed.headers["set-cookie"]
        assert (await browser.post("/codec/decode", json=body)).json() == body  # the cookie stands for the key
        assert (await browser.post("/orders", json={})).status_code == 401  # for the codec server only

        token = browser.cookies[COOKIE]
        key_id, expires, mac = token.split(".")
        for forged in (f"{key_id}.{int(expires) + 3600}.{mac}", f"{key_id}.{expires}.{'0' * 64}", "x"):
            browser.cookies.set(COOKIE, forged, domain="127.0.0.1", path="/codec")
            answer = await browser.post("/codec/decode", json=body)
            assert (answer.status_code, answer.json()["detail"]) == (401, EXPIRED)
        browser.cookies.set(COOKIE, token, domain="127.0.0.1", path="/codec")
        key_id = await revoke(engine, secret)
        revoked = await browser.post("/codec/decode", json=body)
        assert (revoked.status_code, revoked.json()["detail"]) == (401, f"API key {key_id} was revoked")
