"""Pipelines in the store: the newest version of each, which new orders run
(``PipelineRecord``), and every version stored before it (``PipelineVersion``), never
changed once stored. Loading the content of the newest version again stores nothing."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.contracts import StageEntry, VersionAtEntry
from automation.copying import Item, copy_items
from automation.models import INSIDE
from automation.pipeline import Pipeline
from automation.versions import Change, Reach, changes, content_hash, preview, stage_move_problems
from store.access import audit
from store.columns import utcnow
from store.tables import Order, PipelineRecord, PipelineVersion

NEWEST_KNOWN_FOR = 1.0
"""Seconds a worker takes the newest version number of a pipeline it has read for known, so
that an order entering a stage needs no store read in the common case (its version is the
newest). A version stored by this process is known at once; one stored by another (the CLI,
the API) within this time."""
_newest_numbers: dict[str, tuple[float, int]] = {}
"""pipeline id -> (until when, the newest version's number), per process."""


def known_newest(pipeline_id: str) -> int | None:
    """The number of the pipeline's newest version, if this process read it lately."""
    known = _newest_numbers.get(pipeline_id)
    return known[1] if known is not None and known[0] > time.monotonic() else None


def known_current(entry: StageEntry) -> VersionAtEntry | None:
    """``current`` if the order's version is the newest one this process read lately."""
    if entry.announced is not None and (entry.number is None or entry.announced > entry.number):
        return None  # a newer version was announced: only the store can say
    if entry.number is not None and entry.number == known_newest(entry.pipeline_id):
        return VersionAtEntry(outcome="current", number=entry.number)
    return None


def remember_newest(pipeline_id: str, number: int) -> None:
    _newest_numbers[pipeline_id] = (time.monotonic() + NEWEST_KNOWN_FOR, number)


class VersionConflict(RuntimeError):
    """Another version of the pipeline was stored at the same moment: nothing was stored."""


class StageMovesNeeded(ValueError):
    """A new version refused for its stage moves (``automation.versions.stage_move_problems``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Stored:
    record: PipelineRecord
    version: PipelineVersion
    new: bool
    """False: the content was the newest version's; nothing was stored."""


async def save_pipeline(
    db: AsyncSession, pipeline: Pipeline, *, actor: str = "unknown", source: str = "",
    stage_moves: dict[str, str] | None = None,
) -> Stored:  # fmt: skip
    """Stores ``pipeline`` as its next version, which new orders then run, and running
    orders as they next enter a stage; its webhook secret is made once and kept.
    ``stage_moves``: where an order goes that would enter a stage this version removes
    (needed for a removed stage with orders in it: ``StageMovesNeeded`` otherwise)."""
    digest = content_hash(pipeline)
    newest = await newest_version(db, pipeline.id)
    existing = await db.get(PipelineRecord, pipeline.id)
    if newest is not None and existing is not None and newest.content_hash == digest:
        return Stored(existing, newest, new=False)
    before = version_pipeline(newest) if newest is not None else None
    moves = stage_moves or {}
    problems = stage_move_problems(before, pipeline, moves, await orders_by_stage(db, pipeline.id))
    if problems:
        raise StageMovesNeeded(problems)
    definition = pipeline.model_dump(mode="json")
    now = utcnow()
    record = await db.merge(
        PipelineRecord(
            id=pipeline.id, title=pipeline.title, version=digest, definition=definition, loaded_at=now,
            webhook_secret=existing.webhook_secret if existing else secrets.token_urlsafe(32),
        )
    )  # fmt: skip
    version = PipelineVersion(
        pipeline_id=pipeline.id, number=newest.number + 1 if newest else 1, content_hash=digest,
        definition=definition, changes=[change.model_dump() for change in changes(before, pipeline)],
        stage_moves=moves,
        loaded_at=now, loaded_by=actor, source=source,
    )  # fmt: skip
    db.add(version)
    _newest_numbers.pop(pipeline.id, None)
    try:
        await db.flush()
    except IntegrityError:  # the same number, stored by another load meanwhile
        raise VersionConflict(f"another version of {pipeline.id!r} was stored at the same moment; retry") from None
    return Stored(record, version, new=True)


@dataclass(frozen=True)
class Preview:
    """What storing a pipeline would do, before anything changes."""

    newest: int | None
    """The newest version's number now (None: the pipeline is new)."""
    reaches: list[Reach]
    problems: list[str]
    """Why it would be refused (``StageMovesNeeded``); empty: it would be stored."""
    occupied: dict[str, int]


async def preview_pipeline(db: AsyncSession, pipeline: Pipeline, stage_moves: dict[str, str] | None = None) -> Preview:
    moves = stage_moves or {}
    newest = await newest_version(db, pipeline.id)
    occupied = await orders_by_stage(db, pipeline.id)
    if newest is None:
        return Preview(None, [], stage_move_problems(None, pipeline, moves, occupied), occupied)
    before = version_pipeline(newest)
    problems = stage_move_problems(before, pipeline, moves, occupied)
    return Preview(newest.number, preview(before, pipeline, occupied, moves), problems, occupied)


async def orders_by_stage(db: AsyncSession, pipeline_id: str) -> dict[str, int]:
    """How many real orders of the pipeline are in each stage (as the store last heard)."""
    query = (
        select(Order.stage, func.count())
        .where(Order.pipeline_id == pipeline_id, col(Order.test).is_(False))
        .group_by(col(Order.stage))
    )
    return dict((await db.exec(query)).all())


async def version_at_entry(db: AsyncSession, entry: StageEntry) -> VersionAtEntry:
    """The version an order entering ``entry.stage`` runs it under: the newest, with the stage
    of the same id if the newest has one, else the stage the versions since the order's own
    say of it (a stage removed with a stage move, and that one removed too...); none said:
    the order stays on its version for this stage."""
    newest = await newest_version(db, entry.pipeline_id)
    if newest is not None:
        remember_newest(entry.pipeline_id, newest.number)
    if newest is None or (entry.number is not None and entry.number >= newest.number):
        return VersionAtEntry(outcome="current", number=entry.number)
    since = entry.number
    if since is None:  # begun before versions were kept: its version is the one of its content
        if newest.content_hash == entry.content_hash:
            return VersionAtEntry(outcome="same_content", number=newest.number, stage=entry.stage)
        since = await _number_of(db, entry.pipeline_id, entry.content_hash)
    in_newest = _stage_ids(newest)
    stage: str | None = entry.stage
    if stage not in in_newest:
        later = select(PipelineVersion).where(
            PipelineVersion.pipeline_id == entry.pipeline_id, col(PipelineVersion.number) > since
        )
        for version in (await db.exec(later.order_by(col(PipelineVersion.number)))).all():
            if stage is not None and stage not in _stage_ids(version):
                stage = version.stage_moves.get(stage)
    if stage is None or stage not in in_newest:
        return VersionAtEntry(outcome="no_place", number=newest.number)
    return VersionAtEntry.taking(newest.number, newest.definition, stage)


def _stage_ids(version: PipelineVersion) -> set[str]:
    return {stage["id"] for stage in version.definition["stages"]}


async def _number_of(db: AsyncSession, pipeline_id: str, digest: str | None) -> int:
    """The newest version with that content (0: none has it)."""
    query = select(func.max(PipelineVersion.number)).where(
        PipelineVersion.pipeline_id == pipeline_id, PipelineVersion.content_hash == digest
    )
    return (await db.exec(query)).one() or 0


async def get_pipeline(db: AsyncSession, pipeline_id: str) -> Pipeline | None:
    """The newest version: what a new order runs."""
    record = await db.get(PipelineRecord, pipeline_id)
    return Pipeline.model_validate(record.definition, context=INSIDE) if record else None


async def newest_version(db: AsyncSession, pipeline_id: str) -> PipelineVersion | None:
    number = await newest_number(db, pipeline_id)
    return await get_version(db, pipeline_id, number) if number is not None else None


async def newest_number(db: AsyncSession, pipeline_id: str) -> int | None:
    newest = select(func.max(PipelineVersion.number)).where(PipelineVersion.pipeline_id == pipeline_id)
    return (await db.exec(newest)).one()


async def get_version(db: AsyncSession, pipeline_id: str, number: int) -> PipelineVersion | None:
    return await db.get(PipelineVersion, (pipeline_id, number))


async def list_versions(db: AsyncSession, pipeline_id: str) -> list[PipelineVersion]:
    query = select(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id)
    return list((await db.exec(query.order_by(col(PipelineVersion.number)))).all())


async def list_pipelines(db: AsyncSession) -> list[tuple[PipelineRecord, PipelineVersion]]:
    """Every pipeline, by id, with its newest version (in one query)."""
    newest = (
        select(PipelineVersion.pipeline_id, func.max(PipelineVersion.number).label("number"))
        .group_by(col(PipelineVersion.pipeline_id))
        .subquery()
    )
    same = and_(col(PipelineVersion.pipeline_id) == PipelineRecord.id, col(PipelineVersion.number) == newest.c.number)
    query = (
        select(PipelineRecord, PipelineVersion)
        .join(newest, col(newest.c.pipeline_id) == PipelineRecord.id)
        .join(PipelineVersion, same)
        .order_by(col(PipelineRecord.id))
    )
    return [(record, version) for record, version in (await db.exec(query)).all()]


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


async def restore_version(
    db: AsyncSession, pipeline_id: str, number: int, *, actor: str, stage_moves: dict[str, str] | None = None
) -> Stored:
    """Makes version ``number`` current again, as the next version. It is checked as a new
    file is (``ValidationError``: this engine would no longer accept it)."""
    pipeline = version_pipeline(await version_of(db, pipeline_id, number), strict=True)
    source = f"version {number} made current again"
    return await save_pipeline(db, pipeline, actor=actor, source=source, stage_moves=stage_moves)


@dataclass(frozen=True)
class CopyOutcome:
    went: list[Item]
    refused: list[str]
    stored: list[Stored]
    """The new versions: the target's, and the source's for a move to another pipeline."""


async def copy_rules(
    db: AsyncSession, source_id: str, items: list[Item], target_id: str, stage: str, *, move: bool, actor: str
) -> CopyOutcome:
    """Copies (``move``: moves) ``items`` of pipeline ``source_id`` to the end of ``stage``
    of ``target_id``; each changed pipeline is stored as its next version, in the audit log."""
    source = await _newest_pipeline(db, source_id)
    target = source if target_id == source_id else await _newest_pipeline(db, target_id)
    copied = copy_items(source, items, target, stage, move)
    if not copied.went:
        return CopyOutcome([], copied.refused, [])
    verb = "moved" if move else "copied"
    what = f"{len(copied.went)} item(s) {verb} from {source_id!r} to stage {stage!r}"
    stored = [await save_pipeline(db, copied.target, actor=actor, source=what)]
    if copied.source is not None:
        stored.append(await save_pipeline(db, copied.source, actor=actor, source=f"{what} of {target_id!r}"))
    for version in stored:
        detail = {"version": version.version.number, "from": source_id, "items": len(copied.went)}
        await audit(db, actor, f"rules_{verb}", version.record.id, detail)
    return CopyOutcome(copied.went, copied.refused, stored)


async def _newest_pipeline(db: AsyncSession, pipeline_id: str) -> Pipeline:
    newest = await newest_version(db, pipeline_id)
    if newest is None:
        raise NoSuchVersion(f"no pipeline {pipeline_id!r}")
    return version_pipeline(newest)


def version_pipeline(version: PipelineVersion, strict: bool = False) -> Pipeline:
    """The version's pipeline; ``strict``: checked as a new file is checked."""
    return Pipeline.model_validate(version.definition, context=None if strict else INSIDE)
