"""Writes that wait together commit together, and one that fails fails alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.database import insert_once, session
from store.group_commit import GroupCommit, Write
from store.tables import LogLine


def _line(number: int) -> Write:
    async def write(db: AsyncSession) -> None:
        await insert_once(db, LogLine(run_key=f"run-{number}", order_id="o", level="info", message="m"), "run_key")

    return write


async def _broken(db: AsyncSession) -> None:
    await _line(-1)(db)  # written, then undone with its transaction
    raise ValueError("this write is broken")


async def _stored(engine: AsyncEngine) -> list[str]:
    async with session(engine) as db:
        return sorted(await db.exec(select(LogLine.run_key).order_by(col(LogLine.run_key))))


async def test_writes_waiting_together_commit_and_a_broken_one_fails_alone(any_engine: AsyncEngine) -> None:
    writes = GroupCommit(any_engine)
    before, after = [writes.write(_line(n)) for n in range(30)], [writes.write(_line(n)) for n in range(30, 60)]
    outcomes = await asyncio.gather(*before, writes.write(_broken), *after, return_exceptions=True)
    assert [type(o).__name__ for o in outcomes if o is not None] == ["ValueError"]
    assert await _stored(any_engine) == sorted(f"run-{n}" for n in range(60))


async def test_a_write_whose_caller_gave_up_before_its_turn_is_not_made(any_engine: AsyncEngine) -> None:
    writes, release = GroupCommit(any_engine), asyncio.Event()

    async def slow(db: AsyncSession) -> None:
        await release.wait()
        await _line(1)(db)

    first = asyncio.ensure_future(writes.write(slow))
    await asyncio.sleep(0.05)  # its batch has begun: the next write waits for the next batch
    abandoned = asyncio.ensure_future(writes.write(_line(2)))
    await asyncio.sleep(0.05)
    abandoned.cancel()  # as a local activity's attempt is, when it times out
    release.set()
    await first
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    await writes.write(_line(3))
    assert await _stored(any_engine) == ["run-1", "run-3"]
