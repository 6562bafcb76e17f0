"""Lists an admin defines (carriers, VIP customers...): each a table of elements keyed by
a ``key`` unique in its list, whose values follow the list's typed fields. The Create,
Read and Edit list element rules work on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.columns import json_object, when

FieldType = Literal["string", "number", "bool", "date"]

FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_]\w{0,39}$")]
"""A plain name, so that ``variables.<prefix><field>`` stays usable in templates."""


class ListDefinition(SQLModel, table=True):
    __tablename__ = "lists"
    id: str = Field(primary_key=True, min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    fields: dict[FieldName, FieldType] = json_object()


class ListElement(SQLModel, table=True):
    __tablename__ = "list_elements"
    __table_args__ = (UniqueConstraint("list_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    list_id: str = Field(foreign_key="lists.id", index=True)
    key: str = Field(description="the element's name in its list, e.g. a carrier's code")
    values: dict[str, Any] = json_object()
    run_key: str | None = Field(default=None, unique=True, description="the Create list element run that made it")
    created_at: datetime = when(nullable=False)
    updated_at: datetime = when(nullable=False)
