"""The catalog of rule and trigger types, searchable: what an admin page lists to choose
from. Open to anyone, like the API's docs: it says only what the engine can do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from automation.catalog import Entry, Group, search

router = APIRouter(tags=["catalog"])


@router.get("/catalog", response_model=list[Entry])
async def get_catalog(
    q: Annotated[str, Query(max_length=200, description="words of a type's name, description or parameters")] = "",
    group: Annotated[Group | None, Query(description="one group only")] = None,
) -> list[Entry]:
    """The rule and trigger types with every word of ``q``, grouped (rules for employees,
    rules for customer communication, triggers), with their parameters and types; those
    with the words in their name first."""
    return search(q, group)
