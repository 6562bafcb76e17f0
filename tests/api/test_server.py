"""The API's HTTP server outlives its clients' idle connections."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from api.server import serving
from devserver import free_port

# httpx (and most pooling clients) keep an idle connection for 5 s and then reuse it. A server
# that closes idle connections at the same moment races the client's next request: the request
# goes out on a socket being closed and fails with a ReadError, as a CI run once showed.
CLIENT_KEEPALIVE_SECONDS = httpx.Limits().keepalive_expiry or 5.0


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b'"pong"'), timeout=5)


async def test_an_idle_connection_stays_open_longer_than_a_client_keeps_it() -> None:
    app = FastAPI()
    app.get("/ping")(lambda: "pong")
    async with serving(app, "127.0.0.1", free_port()) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        assert (await _ask(reader, writer)).startswith(b"HTTP/1.1 200")
        await asyncio.sleep(CLIENT_KEEPALIVE_SECONDS + 1)
        # The same connection still answers: the client, not the server, ends an idle connection.
        assert (await _ask(reader, writer)).startswith(b"HTTP/1.1 200")
        writer.close()
