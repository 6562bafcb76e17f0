"""What the Create, Read and Edit list element rules share (a module starting with ``_`` is
a helper, not a rule type): the list a rule names, its element's key, and values checked
against the list's field types."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules.base import RuleContext, refuse, shorten
from automation.rule_kinds._parts import ElementValue
from store.lists import check_values, get_list
from store.tables_lists import ListDefinition


async def list_definition(db: AsyncSession, list_id: str) -> ListDefinition:
    """The list, or refused: a rule naming a list nobody defined will not work on retry either."""
    definition = await get_list(db, list_id)
    if definition is None:
        raise refuse(f"no list {list_id!r}; lists are defined in the directory file (lists:)")
    return definition


async def element_key(ctx: RuleContext, key: str) -> str:
    rendered = (await ctx.render(key)).strip()
    if not rendered:
        raise refuse(f"the element's key {key!r} is empty once filled in")
    return rendered


async def element_values(
    ctx: RuleContext, definition: ListDefinition, values: dict[str, ElementValue]
) -> dict[str, Any]:
    rendered = {name: (await ctx.render(value)) if isinstance(value, str) else value for name, value in values.items()}
    try:
        return check_values(definition, rendered)
    except ValueError as err:
        raise refuse(str(err)) from None


def describe(values: dict[str, Any]) -> str:
    """The values, for the timeline."""
    return shorten(", ".join(f"{name}={value!r}" for name, value in values.items()), 200)
