"""The store's schema, versioned with Alembic (revisions in ``store/migrations/versions/``).

Every process that uses the store brings it up to date first (``migrate``), so a database
made by an older version of the engine is migrated with its rows kept; nothing creates
tables behind Alembic's back. A database made before the schema was versioned (tables
made by ``create_all``, no ``alembic_version``) is taken to be at the first revision.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
"""The schema as it was when it was first versioned."""
_PG_LOCK = 727_001
"""The advisory lock that keeps two processes from migrating one PostgreSQL database at once."""


def metadata() -> MetaData:
    """Every table of the store (importing the table modules registers them)."""
    import store.tables
    import store.tables_access
    import store.tables_lists
    import store.tables_people
    import store.tables_shipments  # noqa: F401

    return SQLModel.metadata


def sync_url(url: str) -> str:
    """The URL with a synchronous driver, for Alembic's command line."""
    for plain, driver in (("postgresql://", "postgresql+psycopg://"), ("postgres://", "postgresql+psycopg://")):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url.replace("+aiosqlite", "")


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
    tables = set(inspect(connection).get_table_names())
    config = _config(connection)
    if "alembic_version" not in tables and "orders" in tables:
        command.stamp(config, BASELINE)  # made by create_all before the schema was versioned
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(_config(connection), revision)


@contextmanager
def _file_lock(engine: AsyncEngine) -> Iterator[None]:
    """SQLite: one process migrates the file at a time (PostgreSQL locks in the transaction)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the database to ``revision`` (the newest by default), keeping its rows."""
    with _file_lock(engine):
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    with _file_lock(engine):
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, revision)


async def revision_of(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(current_revision)
