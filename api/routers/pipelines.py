"""Pipelines and their versions: load a new version (or preview and lint it first), list,
show and compare versions, make an earlier one current again (as a new version), copy or
move rules and triggers. Every route needs the ``admin`` scope; a key limited to pipelines
reaches only those. Each stored version is in the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import Administers, Caller
from api.dependencies import Orders, Store
from api.errors import InvalidRequest
from automation import limits
from automation.copying import Item
from automation.errors import describe
from automation.lint import Finding, lint
from automation.pipeline import Pipeline
from automation.versions import Change, Reach, parse_stage_moves
from order_client import OrderClient
from store.access import audit
from store.database import session
from store.pipelines import (
    NoSuchVersion,
    StageMovesNeeded,
    Stored,
    VersionConflict,
    copy_rules,
    diff_versions,
    list_pipelines,
    list_versions,
    newest_version,
    preview_pipeline,
    restore_version,
    save_pipeline,
    version_of,
)
from store.tables import PipelineVersion

router = APIRouter(tags=["pipelines"])

PipelineIdPath = Annotated[str, Path(min_length=1, max_length=limits.SLUG_CHARS, description="the pipeline id")]
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="a version's number: 1, 2, 3...")]


class VersionInfo(BaseModel):
    """A version without its content."""

    pipeline_id: str
    number: int
    content_hash: str
    loaded_at: datetime
    loaded_by: str
    source: str
    changes: list[Change]
    """What it changed in the version before."""

    @classmethod
    def of(cls, version: PipelineVersion) -> VersionInfo:
        return cls.model_validate(version.model_dump(mode="json", exclude={"definition"}))


class VersionDetail(VersionInfo):
    definition: dict[str, Any]

    @classmethod
    def of(cls, version: PipelineVersion) -> VersionDetail:
        return cls.model_validate(version.model_dump(mode="json"))


class StoredAnswer(BaseModel):
    new: bool
    """False: the newest version already had this content; nothing was stored."""
    version: VersionInfo


class PipelineInfo(BaseModel):
    id: str
    title: str
    version: int
    loaded_at: datetime


@router.get("/pipelines", response_model=list[PipelineInfo])
async def get_pipelines(caller: Administers, store: Store) -> list[PipelineInfo]:
    """Every pipeline the key may reach, with its newest version (what new orders run)."""
    async with session(store) as db:
        found = await list_pipelines(db)
    return [
        PipelineInfo(id=record.id, title=record.title, version=newest.number, loaded_at=record.loaded_at)
        for record, newest in found
        if caller.may_use(record.id)
    ]


StageMoves = Annotated[
    list[str] | None,
    Query(max_length=limits.STAGES, description="OLD=NEW: a stage the new version removes = where an order "
          "that would enter it goes; needed for a removed stage with orders in it"),
]  # fmt: skip


class PreviewAnswer(BaseModel):
    newest: int | None
    """The newest version now (None: the pipeline is new)."""
    occupied: dict[str, int]
    """Orders in each stage, as the store last heard."""
    reaches: list[Reach]
    problems: list[str]
    """Why it would be refused; empty: it would be stored."""


@router.post("/pipelines", response_model=StoredAnswer, responses={201: {"model": StoredAnswer}})
async def load_pipeline(
    caller: Administers, store: Store, orders: Orders, definition: dict[str, Any], stage_move: StageMoves = None
) -> StoredAnswer | JSONResponse:
    """Stores a pipeline (its definition as JSON, as the YAML file has it) as its next
    version: new orders run it, running orders as they next enter a stage. 201; the newest
    version's content again: 200, nothing stored. An invalid pipeline, or a removed stage
    with orders in it and no ``stage_move``: 422, one line per problem with its place."""
    pipeline, moves = _proposed(caller, definition, stage_move)
    stored = await _storing(
        store, orders, caller, "pipeline_loaded", pipeline.id, {},
        lambda db: save_pipeline(db, pipeline, actor=caller.actor, source="the HTTP API", stage_moves=moves),
    )  # fmt: skip
    return _stored_answer(stored)


@router.post("/pipelines/preview", response_model=PreviewAnswer)
async def preview(
    caller: Administers, store: Store, definition: dict[str, Any], stage_move: StageMoves = None
) -> PreviewAnswer:
    """What storing this pipeline would do to the running orders, change by change, and
    whether it would be refused; nothing is stored."""
    pipeline, moves = _proposed(caller, definition, stage_move)
    async with session(store) as db:
        seen = await preview_pipeline(db, pipeline, moves)
    return PreviewAnswer(newest=seen.newest, occupied=seen.occupied, reaches=seen.reaches, problems=seen.problems)


@router.post("/pipelines/lint", response_model=list[Finding])
async def lint_pipeline(caller: Administers, definition: dict[str, Any]) -> list[Finding]:
    """What a valid pipeline may still get wrong (trigger loops, stages nothing reaches, rules
    that never run, variables read before they are set, endless
    Waits), each with its place and severity; an invalid one is a 422, as for loading."""
    pipeline = pipeline_of(definition)
    caller.check_pipeline(pipeline.id)
    return lint(pipeline)


def _proposed(
    caller: Caller, definition: dict[str, Any], stage_move: list[str] | None
) -> tuple[Pipeline, dict[str, str]]:
    """The pipeline of a request's body and the stage moves of its query, checked."""
    pipeline = pipeline_of(definition)
    caller.check_pipeline(pipeline.id)
    return pipeline, _moves(stage_move)


def pipeline_of(definition: dict[str, Any]) -> Pipeline:
    """A pipeline given as JSON in a request, checked as its file would be (422 with each problem)."""
    try:
        return Pipeline.model_validate(definition)
    except ValidationError as err:
        raise InvalidRequest(describe(err)) from None


class CopyRequest(BaseModel):
    items: list[Item] = Field(min_length=1, max_length=limits.RULES_PER_STAGE + limits.TRIGGERS_PER_STAGE)
    to_stage: str = Field(min_length=1, max_length=limits.SLUG_CHARS, description="they go to the end of it")
    to_pipeline: str | None = Field(default=None, max_length=limits.SLUG_CHARS, description="default: the same")
    move: bool = Field(default=False, description="a move: what went is deleted where it was")


class CopyAnswer(BaseModel):
    went: list[Item]
    refused: list[str]
    """One line per item that did not go, saying why."""
    versions: list[VersionInfo]
    """The new versions: the target's, and the source's for a move to another pipeline."""


@router.post("/pipelines/{pipeline_id}/copy", response_model=CopyAnswer)
async def copy(
    caller: Administers, store: Store, orders: Orders, pipeline_id: PipelineIdPath, request: CopyRequest
) -> CopyAnswer:
    """Copies (or moves) rules and triggers of this pipeline to a stage of it or of another
    pipeline, item by item: what cannot go is refused, saying why, and the rest goes, each
    changed pipeline as its next version. Nothing could go: 422, one line per item."""
    target = request.to_pipeline or pipeline_id
    caller.check_pipeline(pipeline_id)
    caller.check_pipeline(target)
    async with session(store) as db:
        try:
            outcome = await copy_rules(db, pipeline_id, request.items, target, request.to_stage, move=request.move,
                                       actor=caller.actor)  # fmt: skip
        except NoSuchVersion as err:
            raise HTTPException(404, str(err)) from None
        except VersionConflict as err:
            raise HTTPException(409, str(err)) from None
        if not outcome.went:
            raise InvalidRequest(outcome.refused)
        await db.commit()
    for stored in outcome.stored:
        await orders.announce_version(stored.record.id, stored.version.number)
    return CopyAnswer(went=outcome.went, refused=outcome.refused,
                      versions=[VersionInfo.of(stored.version) for stored in outcome.stored])  # fmt: skip


@router.get("/pipelines/{pipeline_id}/versions", response_model=list[VersionInfo])
async def get_versions(caller: Administers, store: Store, pipeline_id: PipelineIdPath) -> list[VersionInfo]:
    """Every version of the pipeline, oldest first."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        found = await list_versions(db, pipeline_id)
    if not found:
        raise HTTPException(404, f"no pipeline {pipeline_id!r}")
    return [VersionInfo.of(version) for version in found]


@router.get("/pipelines/{pipeline_id}/versions/{number}", response_model=VersionDetail)
async def get_version(
    caller: Administers, store: Store, pipeline_id: PipelineIdPath, number: VersionPath
) -> VersionDetail:
    """One version, with its content."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        return VersionDetail.of(await _version(db, pipeline_id, number))


@router.get("/pipelines/{pipeline_id}/diff", response_model=list[Change])
async def get_diff(
    caller: Administers,
    store: Store,
    pipeline_id: PipelineIdPath,
    first: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1, description="a version's number")],
    second: Annotated[int | None, Query(alias="to", ge=1, le=2**31 - 1, description="default: the newest")] = None,
) -> list[Change]:
    """What version ``to`` changes in version ``from``."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        newest = await newest_version(db, pipeline_id)
        try:
            return await diff_versions(db, pipeline_id, first, second or (newest.number if newest else first))
        except NoSuchVersion as err:
            raise HTTPException(404, str(err)) from None


@router.post(
    "/pipelines/{pipeline_id}/versions/{number}/restore",
    response_model=StoredAnswer, responses={201: {"model": StoredAnswer}},
)  # fmt: skip
async def restore(
    caller: Administers, store: Store, orders: Orders, pipeline_id: PipelineIdPath, number: VersionPath,
    stage_move: StageMoves = None,
) -> StoredAnswer | JSONResponse:  # fmt: skip
    """Makes version ``number`` current again, as the next version: 201 (200 if it is the
    newest's content already). 422 if this engine would no longer accept it, saying why."""
    caller.check_pipeline(pipeline_id)
    moves = _moves(stage_move)
    try:
        stored = await _storing(
            store, orders, caller, "pipeline_restored", pipeline_id, {"from": number},
            lambda db: restore_version(db, pipeline_id, number, actor=caller.actor, stage_moves=moves),
        )  # fmt: skip
    except ValidationError as err:
        raise InvalidRequest([f"version {number}: {problem}" for problem in describe(err)]) from None
    return _stored_answer(stored)


async def _storing(
    store: AsyncEngine, orders: OrderClient, caller: Caller, action: str, pipeline_id: str, detail: dict[str, Any],
    make: Callable[[AsyncSession], Awaitable[Stored]],
) -> Stored:  # fmt: skip
    """Runs ``make(db)``, audits a new version, commits, announces it to the running orders;
    another version stored at the same moment is a 409."""
    async with session(store) as db:
        try:
            stored: Stored = await make(db)
            if stored.new:
                await audit(db, caller.actor, action, pipeline_id, {**detail, "version": stored.version.number})
            await db.commit()
        except NoSuchVersion as err:
            raise HTTPException(404, str(err)) from None
        except StageMovesNeeded as err:
            raise InvalidRequest(err.problems) from None
        except VersionConflict as err:
            raise HTTPException(409, str(err)) from None
    if stored.new:
        await orders.announce_version(pipeline_id, stored.version.number)
    return stored


def _moves(stage_move: list[str] | None) -> dict[str, str]:
    try:
        return parse_stage_moves(stage_move or [], "query.stage_move")
    except ValueError as err:
        raise InvalidRequest([str(err)]) from None


async def _version(db: AsyncSession, pipeline_id: str, number: int) -> PipelineVersion:
    try:
        return await version_of(db, pipeline_id, number)
    except NoSuchVersion as err:
        raise HTTPException(404, str(err)) from None


def _stored_answer(stored: Stored) -> StoredAnswer | JSONResponse:
    answer = StoredAnswer(new=stored.new, version=VersionInfo.of(stored.version))
    return JSONResponse(answer.model_dump(mode="json"), status_code=201) if stored.new else answer
