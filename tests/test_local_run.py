"""The main job's local infrastructure (``devserver.py``, ``run_local.py``): the mail
folder keeps every e-mail across restarts; the embedded dev server dies with the job that
started it, and one a crashed run left is recognised and replaced."""

from __future__ import annotations

import asyncio
import os
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from devserver import PID_FILE, dev_server_command, embedded_dev_server, free_port, mail_catcher, port_open
from run_local import demo_order
from tests.conftest import running_engine, seed

ROOT = Path(__file__).resolve().parent.parent


def _send(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", "ada@example.com", subject
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)


def test_the_mail_folder_keeps_the_mail_of_every_run(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    for run in ("first run", "second run", "third run"):
        port = free_port()
        with mail_catcher(folder, port):
            _send(port, run)
    files = sorted(folder.glob("*.eml"))
    assert [path.name for path in files] == ["00001.eml", "00002.eml", "00003.eml"]
    assert [
        f"Subject: {run}" in path.read_text()
        for path, run in zip(files, ("first run", "second run", "third run"), strict=True)
    ] == [True] * 3


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


async def _until(check: Any, seconds: float = 20) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not true in time")


SERVE = """
import asyncio, sys
from pathlib import Path
from devserver import embedded_dev_server

async def main():
    async with embedded_dev_server(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])):
        print("ready", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_crash_of_the_main_job_takes_its_dev_server_with_it(tmp_path: Path) -> None:
    port, ui = free_port(), free_port()
    main_job = subprocess.Popen([sys.executable, "-c", SERVE, str(tmp_path), str(port), str(ui)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert main_job.stdout is not None and main_job.stdout.readline().strip() == "ready"
        dev_server = int((tmp_path / PID_FILE).read_text())
        assert _alive(dev_server)
        main_job.kill()  # kill -9: nothing of it runs any more
        await _until(lambda: not _alive(dev_server))
        assert not port_open("127.0.0.1", port)
    finally:
        main_job.kill()
        main_job.wait()


async def test_a_dev_server_an_earlier_run_left_is_stopped_and_replaced(tmp_path: Path, capsys: Any) -> None:
    port, ui = free_port(), free_port()
    leftover = subprocess.Popen(
        dev_server_command(tmp_path, port, ui), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        (tmp_path / PID_FILE).write_text(f"{leftover.pid}\n")  # as the crashed run wrote it
        await _until(lambda: port_open("127.0.0.1", port))
        async with embedded_dev_server(tmp_path, port, ui) as address:
            assert leftover.wait(timeout=10) is not None
            assert address == f"127.0.0.1:{port}" and port_open("127.0.0.1", port)
        said = capsys.readouterr().out
        assert f"stopping the Temporal dev server (pid {leftover.pid}) that an earlier run of {tmp_path} left" in said
    finally:
        leftover.kill()


async def test_a_port_taken_by_another_program_says_which(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        with pytest.raises(RuntimeError) as refused:
            async with embedded_dev_server(tmp_path, port, free_port()):
                pass
    assert str(refused.value).startswith(f"port {port} is taken by process {os.getpid()} (")


async def test_every_run_shows_the_same_demo_order(
    dev_env: Any, deps: Any, tmp_path: Path, example_pipeline: Any
) -> None:
    await seed(deps.engine, example_pipeline)
    async with running_engine(dev_env, deps) as engine:
        first = await demo_order(engine.orders, tmp_path)
        again = await demo_order(engine.orders, tmp_path)
        demos = [w async for w in engine.client.list_workflows(f"WorkflowId = 'order-{first}'")]
    assert again == first and len(demos) == 1
