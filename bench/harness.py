"""What every benchmark needs: a Temporal dev server of its own, CPU clocks, a store."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

from automation import search
from devserver import free_port, port_open, temporal_binary
from store.database import make_engine
from store.schema import migrate

POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    address: str
    pid: int


@asynccontextmanager
async def dev_server(db_file: Path | None = None) -> AsyncIterator[Server]:
    """The ``temporal`` CLI's dev server, in memory unless ``db_file``, our search attributes registered."""
    port = free_port()
    command = [temporal_binary(), "server", "start-dev", "--headless", "--port", str(port),
               "--http-port", str(free_port()), "--metrics-port", str(free_port()), "--log-level", "error"]  # fmt: skip
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    for attribute in search.ALL:
        command += ["--search-attribute", f"{attribute.name}=Keyword"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not port_open("127.0.0.1", port):
            if process.poll() is not None:
                raise RuntimeError(f"the dev server exited with {process.returncode}")
            await asyncio.sleep(0.1)
        yield Server(f"127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) a process has used: this one (all its threads) by default."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MiB."""
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


@asynccontextmanager
async def store(kind: str, folder: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty store: a SQLite file in ``folder``, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder / f'orders-{uuid.uuid4().hex[:8]}.db'}")
        try:
            await migrate(engine)
            yield engine
        finally:
            await engine.dispose()
        return
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Finished:
    """Hears that an entity's rule finished, for whoever waits on it (worker and client
    share this process and its event loop)."""

    def __init__(self) -> None:
        self._heard: dict[str, asyncio.Queue[None]] = defaultdict(asyncio.Queue)

    def heard(self, key: str) -> None:
        self._heard[key].put_nowait(None)

    async def next(self, key: str) -> None:
        """Until the next rule of ``key`` has finished (one heard before counts)."""
        await self._heard[key].get()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
