"""Engine creation and the one write helper every idempotent writer uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


def async_url(url: str) -> str:
    """Accepts plain ``sqlite:///`` and ``postgresql://`` URLs and picks the async driver."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        # SQLite takes one writer at a time: one connection, handed out in turn. With several,
        # writers wait in SQLite's busy loop, which is not fair: under a burst a store write
        # could wait past its attempt's timeout, and a cancelled one leaves its query running
        # in aiosqlite's thread, holding its connection, so that the next attempts wait too.
        # No ping before each use: a file's connection does not drop as a server's may.
        engine = create_async_engine(url, pool_size=1, max_overflow=0)
    else:
        engine = create_async_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # Many activities write at once: wait for the lock instead of failing at once.
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


@asynccontextmanager
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as db:
        yield db


def _insert(db: AsyncSession, row: SQLModel) -> tuple[Any, dict[str, Any]]:
    table: Any = type(row).__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in table.columns if getattr(row, c.name) is not None}
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(table).values(**values), values


async def insert_once(db: AsyncSession, row: SQLModel, *unique: str) -> bool:
    """Inserts ``row`` unless one with the same ``unique`` columns exists; True if inserted.

    This is how activities stay idempotent: a retried activity writes nothing twice.
    """
    statement, _ = _insert(db, row)
    # RETURNING tells whether a row went in: rowcount is -1 with psycopg's async cursor.
    key = list(type(row).__table__.primary_key.columns)  # type: ignore[attr-defined]
    result: Any = await db.exec(statement.on_conflict_do_nothing(index_elements=list(unique)).returning(*key))
    return result.first() is not None


async def upsert(db: AsyncSession, row: SQLModel, *unique: str) -> None:
    """Inserts ``row``, or updates the one with the same ``unique`` columns: safe when two
    writers race for the same row, unlike a read followed by an insert."""
    statement, values = _insert(db, row)
    changes = {name: value for name, value in values.items() if name not in unique and name != "id"}
    await db.exec(statement.on_conflict_do_update(index_elements=list(unique), set_=changes))
