"""The example directory's lists, saved into a test's store, and their elements read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from store.database import session
from store.lists import save_list
from store.tables_lists import ListDefinition, ListElement

EXAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "examples" / "directory.yaml"


async def define_example_lists(engine: AsyncEngine) -> None:
    lists = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))["lists"]
    async with session(engine) as db:
        for item in lists:
            await save_list(db, ListDefinition.model_validate(item))
        await db.commit()


async def add_elements(engine: AsyncEngine, list_id: str, elements: dict[str, dict[str, Any]]) -> None:
    async with session(engine) as db:
        for key, values in elements.items():
            db.add(ListElement(list_id=list_id, key=key, values=values))
        await db.commit()


async def elements(engine: AsyncEngine, list_id: str) -> list[ListElement]:
    async with session(engine) as db:
        query = select(ListElement).where(ListElement.list_id == list_id).order_by(col(ListElement.key))
        return list(await db.exec(query))
