"""A pipeline's constants, set by an admin without editing the pipeline file: every rule
that runs from then on reads the value set. The ``admin`` scope; each change audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.auth import Administers
from api.dependencies import Store
from api.errors import InvalidRequest
from api.routers.pipelines import PipelineIdPath
from store.constants import ConstantRefused, ConstantRow, list_constants, set_constant, unset_constant
from store.database import session
from store.pipelines import NoSuchVersion

router = APIRouter(tags=["pipelines"])


class ConstantValueIn(BaseModel):
    value: str | int | float | bool | None = Field(description="of the constant's type; text at most 2,000 characters")


@router.get("/pipelines/{pipeline_id}/constants", response_model=list[ConstantRow])
async def get_constants(caller: Administers, store: Store, pipeline_id: PipelineIdPath) -> list[ConstantRow]:
    """The pipeline's constants: their type, the file's value and the one rules read."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        return await _constant_rows(db, pipeline_id)


@router.put("/pipelines/{pipeline_id}/constants/{name}", response_model=ConstantRow)
async def put_constant(
    caller: Administers, store: Store, pipeline_id: PipelineIdPath, name: Annotated[str, Path(max_length=64)],
    body: ConstantValueIn,
) -> ConstantRow:  # fmt: skip
    """Sets a constant without editing the pipeline file: every rule that runs from now on
    reads this value. 422 if the pipeline does not declare it or the value is not of its type."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        try:
            await set_constant(db, pipeline_id, name, body.value, caller.actor)
        except ConstantRefused as err:
            raise InvalidRequest([str(err)]) from None
        except NoSuchVersion as err:
            raise HTTPException(404, str(err)) from None
        await db.commit()
        return next(row for row in await _constant_rows(db, pipeline_id) if row.name == name)


@router.delete("/pipelines/{pipeline_id}/constants/{name}", status_code=204)
async def delete_constant(
    caller: Administers, store: Store, pipeline_id: PipelineIdPath, name: Annotated[str, Path(max_length=64)]
) -> None:
    """Back to the value the pipeline file gives it; 404 if it was not set."""
    caller.check_pipeline(pipeline_id)
    async with session(store) as db:
        if not await unset_constant(db, pipeline_id, name, caller.actor):
            raise HTTPException(404, f"constant {name!r} of {pipeline_id!r} was not set: it has the file's value")
        await db.commit()


async def _constant_rows(db: AsyncSession, pipeline_id: str) -> list[ConstantRow]:
    try:
        return await list_constants(db, pipeline_id)
    except NoSuchVersion as err:
        raise HTTPException(404, str(err)) from None
