"""Many small writes in one transaction: the worker's orders each write their row and timeline
after every workflow task, and on SQLite (one writer at a time, one connection) a transaction
each would queue them up behind one another until some time out (the local activity's 2 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from store.database import session

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[Any]]
BATCH = 200
"""Writes per transaction at most."""


class GroupCommit:
    """Runs the writes handed to it one after another, those that wait together in one
    transaction; a write answers once its transaction has committed. If a transaction fails,
    its writes are run again each in a transaction of its own, so that one bad write fails
    alone (the writes must be idempotent: they may run twice)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._waiting: list[tuple[Write, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """What ``write`` answers, once its transaction has committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((write, done))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not asyncio.get_running_loop():
            self._writer = asyncio.create_task(self._write_all())
        return await done  # a cancelled attempt cancels its future: the writer skips it if it has not begun

    async def _write_all(self) -> None:
        while self._waiting:
            batch = [(write, done) for write, done in self._waiting[:BATCH] if not done.done()]
            del self._waiting[:BATCH]
            try:
                answers = await self._commit([write for write, _ in batch])
            except Exception:  # which one? each again on its own
                for write, done in batch:
                    await self._alone(write, done)
                continue
            for (_, done), answer in zip(batch, answers, strict=True):
                if not done.done():
                    done.set_result(answer)

    async def _commit(self, writes: list[Write]) -> list[Any]:
        async with session(self._engine) as db:
            answers = [await write(db) for write in writes]
            await db.commit()
        return answers

    async def _alone(self, write: Write, done: asyncio.Future[Any]) -> None:
        try:
            [answer] = await self._commit([write])
        except Exception as err:  # its own failure, for its own caller
            if not done.done():
                done.set_exception(err)
            return
        if not done.done():
            done.set_result(answer)
