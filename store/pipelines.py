"""Pipelines in the store: the newest version of each, which new orders run
(``PipelineRecord``), and every version stored before it (``PipelineVersion``), never
changed once stored. Loading the content of the newest version again stores nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.models import INSIDE
from automation.pipeline import Pipeline
from automation.versions import Change, changes, content_hash
from store.columns import utcnow
from store.tables import PipelineRecord, PipelineVersion


@dataclass(frozen=True)
class Stored:
    record: PipelineRecord
    version: PipelineVersion
    new: bool
    """False: the content was the newest version's; nothing was stored."""


async def save_pipeline(db: AsyncSession, pipeline: Pipeline, *, actor: str = "unknown", source: str = "") -> Stored:
    """Stores ``pipeline`` as its next version, which new orders then run; its webhook
    secret is made once and kept."""
    digest = content_hash(pipeline)
    newest = await newest_version(db, pipeline.id)
    existing = await db.get(PipelineRecord, pipeline.id)
    if newest is not None and existing is not None and newest.content_hash == digest:
        return Stored(existing, newest, new=False)
    definition = pipeline.model_dump(mode="json")
    now = utcnow()
    record = await db.merge(
        PipelineRecord(
            id=pipeline.id, title=pipeline.title, version=digest, definition=definition, loaded_at=now,
            webhook_secret=existing.webhook_secret if existing else secrets.token_urlsafe(32),
        )
    )  # fmt: skip
    before = version_pipeline(newest) if newest is not None else None
    version = PipelineVersion(
        pipeline_id=pipeline.id, number=newest.number + 1 if newest else 1, content_hash=digest,
        definition=definition, changes=[change.model_dump() for change in changes(before, pipeline)],
        loaded_at=now, loaded_by=actor, source=source,
    )  # fmt: skip
    db.add(version)
    await db.flush()
    return Stored(record, version, new=True)


async def get_pipeline(db: AsyncSession, pipeline_id: str) -> Pipeline | None:
    """The newest version: what a new order runs."""
    record = await db.get(PipelineRecord, pipeline_id)
    return Pipeline.model_validate(record.definition, context=INSIDE) if record else None


async def newest_version(db: AsyncSession, pipeline_id: str) -> PipelineVersion | None:
    newest = select(func.max(PipelineVersion.number)).where(PipelineVersion.pipeline_id == pipeline_id)
    number = (await db.exec(newest)).one()
    return await get_version(db, pipeline_id, number) if number is not None else None


async def get_version(db: AsyncSession, pipeline_id: str, number: int) -> PipelineVersion | None:
    return await db.get(PipelineVersion, (pipeline_id, number))


async def list_versions(db: AsyncSession, pipeline_id: str) -> list[PipelineVersion]:
    query = select(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id)
    return list((await db.exec(query.order_by(col(PipelineVersion.number)))).all())


async def list_pipelines(db: AsyncSession) -> list[PipelineRecord]:
    return list((await db.exec(select(PipelineRecord).order_by(col(PipelineRecord.id)))).all())


class NoSuchVersion(LookupError):
    """A pipeline or a version of it that the store does not have; the message says which."""


async def version_of(db: AsyncSession, pipeline_id: str, number: int) -> PipelineVersion:
    version = await get_version(db, pipeline_id, number)
    if version is not None:
        return version
    if await db.get(PipelineRecord, pipeline_id) is None:
        raise NoSuchVersion(f"no pipeline {pipeline_id!r}")
    newest = await newest_version(db, pipeline_id)
    raise NoSuchVersion(f"pipeline {pipeline_id!r} has versions 1 to {newest.number if newest else 0}, not {number}")


async def diff_versions(db: AsyncSession, pipeline_id: str, first: int, second: int) -> list[Change]:
    """What version ``second`` changes in version ``first`` (either may be the earlier)."""
    before, after = await version_of(db, pipeline_id, first), await version_of(db, pipeline_id, second)
    return changes(version_pipeline(before), version_pipeline(after))


async def restore_version(db: AsyncSession, pipeline_id: str, number: int, *, actor: str) -> Stored:
    """Makes version ``number`` current again, as the next version. It is checked as a new
    file is (``ValidationError``: this engine would no longer accept it)."""
    pipeline = version_pipeline(await version_of(db, pipeline_id, number), strict=True)
    return await save_pipeline(db, pipeline, actor=actor, source=f"version {number} made current again")


def version_pipeline(version: PipelineVersion, strict: bool = False) -> Pipeline:
    """The version's pipeline; ``strict``: checked as a new file is checked."""
    return Pipeline.model_validate(version.definition, context=None if strict else INSIDE)
