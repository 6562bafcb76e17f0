"""Constants an admin sets without editing the pipeline file: each replaces the value the
newest version gives it, for every order of the pipeline, from the next rule that runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation import limits
from automation.models import json_size
from automation.variables import Declaration
from store.access import audit
from store.columns import utcnow
from store.pipelines import NoSuchVersion, newest_version, version_pipeline
from store.tables import ConstantValue


class ConstantRefused(ValueError):
    """A value that cannot be set; the message says why."""


class ConstantRow(BaseModel):
    """A constant as an admin sees it (the API answers it as it is)."""

    name: str
    type: str
    """Its type: ``number``, ``list of date``..."""
    description: str | None = None
    in_file: Any
    """The value the newest version of the pipeline gives it."""
    value: Any
    """What rules read: the admin's value if set, else the file's."""
    set_by: str | None
    set_at: str | None


async def set_values(db: AsyncSession, pipeline_id: str) -> dict[str, Any]:
    """The values admins have set, by name (what rules read instead of the file's)."""
    rows = (await db.exec(select(ConstantValue).where(ConstantValue.pipeline_id == pipeline_id))).all()
    return {row.name: row.value for row in rows}


async def list_constants(db: AsyncSession, pipeline_id: str) -> list[ConstantRow]:
    declared = await _declared(db, pipeline_id)
    rows = {row.name: row for row in (await db.exec(
        select(ConstantValue).where(ConstantValue.pipeline_id == pipeline_id))).all()}  # fmt: skip
    return [
        ConstantRow(name=name, type=declaration.type_name, description=declaration.description,
                    in_file=declaration.default, value=rows[name].value if name in rows else declaration.default,
                    set_by=rows[name].set_by if name in rows else None,
                    set_at=rows[name].set_at.isoformat() if name in rows else None)
        for name, declaration in declared.items()
    ]  # fmt: skip


async def set_constant(
    db: AsyncSession, pipeline_id: str, name: str, value: Any, actor: str, typed_in: bool = False
) -> None:
    """Sets the constant ``name``, declared by the pipeline, to ``value`` read as its type
    (``typed_in``: a text typed on a command line, where a list is separated by commas)."""
    declared = await _declared(db, pipeline_id)
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise ConstantRefused(f"pipeline {pipeline_id!r} declares no constant {name!r} (it declares: {known})")
    declaration = declared[name]
    try:
        value = declaration.read_text(value) if typed_in and isinstance(value, str) else declaration.read(value)
    except ValueError as err:
        raise ConstantRefused(f"constant {name!r}: it is {declaration.with_article} constant: {err}") from None
    if (size := json_size(value)) > limits.CONSTANT_BYTES:
        raise ConstantRefused(f"constant {name!r}: {size:,} bytes of JSON; at most {limits.CONSTANT_BYTES:,}")
    await db.merge(ConstantValue(pipeline_id=pipeline_id, name=name, value=value, set_at=utcnow(), set_by=actor))
    await db.flush()
    await audit(db, actor, "constant_set", pipeline_id, {"name": name, "value": value})


async def unset_constant(db: AsyncSession, pipeline_id: str, name: str, actor: str) -> bool:
    """Back to the file's value; False if it was not set."""
    row = await db.get(ConstantValue, (pipeline_id, name))
    if row is None:
        return False
    await db.delete(row)
    await db.flush()
    await audit(db, actor, "constant_unset", pipeline_id, {"name": name})
    return True


async def _declared(db: AsyncSession, pipeline_id: str) -> dict[str, Declaration]:
    newest = await newest_version(db, pipeline_id)
    if newest is None:
        raise NoSuchVersion(f"no pipeline {pipeline_id!r}")
    pipeline = version_pipeline(newest)
    return {name: pipeline.constant(name) for name in pipeline.constants}
