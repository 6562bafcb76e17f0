"""A real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol: pages
are loaded, read and photographed as people see them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets

from devserver import free_port


class Page:
    def __init__(self, socket: Any) -> None:
        self._socket, self._calls = socket, 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._calls += 1
        call = self._calls
        await self._socket.send(json.dumps({"id": call, "method": method, "params": params}))
        while True:
            message = json.loads(await self._socket.recv())
            if message.get("id") == call:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await asyncio.sleep(0.2)
        for _ in range(100):
            if await self.evaluate("document.readyState") == "complete":
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{url} did not load")

    async def evaluate(self, expression: str) -> Any:
        found = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        return found["result"].get("value")

    async def text(self) -> str:
        return str(await self.evaluate("document.body ? document.body.innerText : ''"))

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("no chromium here: `apt-get install chromium` (Debian's package)")
    return found


@asynccontextmanager
async def browser(width: int = 1400, height: int = 1000) -> AsyncIterator[Page]:
    """A fresh browser (its own profile: no cookies, no storage), with one page."""
    port = free_port()
    # Chromium's helper processes may still be writing to the profile as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--remote-debugging-port={port}", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            target = await _page_target(port)
            async with websockets.connect(target, max_size=None) as socket:
                page = Page(socket)
                await page.send("Page.enable")
                yield page
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # the browser and its helper processes
            process.wait(timeout=10)


async def _page_target(port: int) -> str:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0])
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("chromium did not start")
