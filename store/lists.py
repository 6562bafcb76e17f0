"""Lists an admin defines (``lists:`` in the directory file) and their elements: saving a
definition, reading it, and checking element values against its field types."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.database import upsert
from store.tables_lists import FieldType, ListDefinition, ListElement

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


async def save_list(db: AsyncSession, definition: ListDefinition) -> ListDefinition:
    """Creates or replaces a list's title and fields; its elements are kept."""
    # A table model is not validated when built: check the field names and types here.
    checked = ListDefinition.model_validate(definition.model_dump())
    await upsert(db, checked, "id")
    return checked


async def get_list(db: AsyncSession, list_id: str) -> ListDefinition | None:
    return await db.get(ListDefinition, list_id)


async def get_element(db: AsyncSession, list_id: str, key: str, *, lock: bool = False) -> ListElement | None:
    """The element ``key`` of the list; ``lock`` holds its row until commit (PostgreSQL;
    SQLite writes one at a time anyway), so that two edits do not lose each other's values."""
    query = select(ListElement).where(ListElement.list_id == list_id, ListElement.key == key)
    return (await db.exec(query.with_for_update() if lock else query)).first()


async def element_made_by(db: AsyncSession, run_key: str) -> ListElement | None:
    return (await db.exec(select(ListElement).where(ListElement.run_key == run_key))).first()


async def add_element(db: AsyncSession, element: ListElement) -> None:
    """Inserts the element unless its key is taken in the list or its ``run_key`` made one
    already; either way nothing is raised, the caller reads back what is there."""
    table: Any = ListElement.__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(element, c.name) for c in table.columns if getattr(element, c.name) is not None}
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    # No conflict target: both unique constraints (list and key, run_key) mean "do nothing".
    await db.exec(insert(table).values(**values).on_conflict_do_nothing())


def check_values(definition: ListDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as stored, each converted to its field's type (text from templates is
    parsed: "12.5", "yes", "2026-11-22"); a ValueError names the first field that does not fit.
    An empty value clears the field (None), as an empty template renders ""."""
    checked: dict[str, Any] = {}
    for name, value in values.items():
        kind = definition.fields.get(name)
        if kind is None:
            known = ", ".join(definition.fields) or "none"
            raise ValueError(f"list {definition.id!r} has no field {name!r}; its fields: {known}")
        try:
            checked[name] = _convert(kind, value)
        except (TypeError, ValueError):
            raise ValueError(f"list {definition.id!r}, field {name!r}: {value!r} is not a {kind}") from None
    return checked


def _convert(kind: FieldType, value: Any) -> Any:
    if value is None or (value == "" and kind != "string"):
        return None
    match kind:
        case "string":
            return _string(value)
        case "number":
            return _number(value)
        case "bool":
            return _bool(value)
        case "date":
            return _date(value)


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(value)
    return str(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(value)
    number: int | float = value if not isinstance(value, str) else _parse_number(value.strip())
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(value)  # JSON has no NaN or infinity
    return number


def _parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(value)


def _date(value: Any) -> str:
    """An ISO date, as JSON keeps it; a date and time keeps its date as written."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise TypeError(value)
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return datetime.fromisoformat(text).date().isoformat()
