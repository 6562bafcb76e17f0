"""Serving the API with uvicorn inside an asyncio program (``run_local.py``, tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

# Longer than any pooling client keeps an idle connection (httpx: 5 s, like uvicorn's own
# default): a server that closes first races the client's next request, which then fails.
# 75 s is nginx's default.
KEEP_IDLE_CONNECTIONS_SECONDS = 75


@asynccontextmanager
async def serving(app: FastAPI, host: str, port: int) -> AsyncIterator[str]:
    """Serves ``app`` for the duration of the block; yields its base URL."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", timeout_keep_alive=KEEP_IDLE_CONNECTIONS_SECONDS
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start (e.g. the port is taken)
            raise RuntimeError(f"the API did not start on {host}:{port}")
        await asyncio.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
