"""The base of the engine's models: strict at the edge, tolerant inside.

Input from people and services (a pipeline file, an order, an event) is checked
strictly: a misspelt field is an error, and every limit of ``automation/limits.py``
holds. What the engine reads back from itself (its workflow's state and inputs in
Temporal's history, a pipeline it stored) is read with the ``INSIDE`` context: a field
that a later version of the code no longer has is ignored, and a limit added since is
not enforced, so that no change breaks an order that is already running (the replay
test holds us to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from automation import limits

INSIDE = {"inside": True}
"""Validation context for what the engine reads back from itself."""


def is_inside(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("inside"))


class StrictFromOutside(BaseModel):
    """A model read strictly from outside (a misspelt field is an error) and tolerantly
    ``INSIDE`` (a field a later version dropped is ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Where a subclass turns a shorthand form into its full form."""
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _tolerant_inside(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        data = cls._prepare(data)
        if isinstance(data, dict) and is_inside(info):
            data = {name: value for name, value in data.items() if name in cls.model_fields}
        return handler(data)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Within:
    """A limit on a string's characters, a list's items or a mapping's entries, enforced on
    input from outside; not ``INSIDE``, where a limit added later must not break what
    running orders carry. ``printable`` refuses control characters (ids end up in search
    attributes, logs and URLs)."""

    most: int
    printable: bool = False
    least: int = 0
    pattern: str | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        found = handler(schema)
        kind = found.get("type")
        found[{"array": "maxItems", "object": "maxProperties"}.get(str(kind), "maxLength")] = self.most
        if self.least:
            found[{"array": "minItems", "object": "minProperties"}.get(str(kind), "minLength")] = self.least
        if self.pattern is not None:
            found["pattern"] = self.pattern
        return found

    def _check(self, value: Any, info: ValidationInfo) -> Any:
        if is_inside(info):
            return value
        if len(value) > self.most:
            unit = "characters" if isinstance(value, str) else "entries" if isinstance(value, dict) else "items"
            raise PydanticCustomError("limit", "at most {most} {unit}", {"most": self.most, "unit": unit})
        if len(value) < self.least:
            raise PydanticCustomError("limit", "must not be empty" if self.least == 1 else f"at least {self.least}")
        if self.printable and isinstance(value, str) and _CONTROL.search(value):
            raise PydanticCustomError("limit", "must not contain control characters (line breaks, tabs...)")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise PydanticCustomError("limit", "must match {pattern}", {"pattern": self.pattern})
        return value


# Where a field had a constraint before the limits (``StringConstraints``), it holds
# everywhere; what the limits add holds at the edge only (``Within``), so that what a
# running order carries, or an event an old history holds, reads back as it did.
Id = Annotated[str, StringConstraints(min_length=1), Within(limits.ID_CHARS, printable=True)]
"""An id of a customer, an employee, a template, a list, a channel... (never empty)."""
LooseId = Annotated[str, Within(limits.ID_CHARS, printable=True, least=1)]
"""An id that may be empty inside (it could be before the limits), never at the edge."""
SLUG_PATTERN = r"^[a-z][a-z0-9_-]*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=limits.SLUG_CHARS)]
"""A pipeline's or a stage's id."""
Title = Annotated[str, Within(limits.TITLE_CHARS, printable=True)]
Name = Annotated[str, Within(limits.NAME_CHARS, printable=True)]
Contact = Annotated[str, StringConstraints(min_length=1), Within(limits.CONTACT_CHARS, printable=True)]
Text = Annotated[str, Within(limits.TEXT_CHARS)]
Url = Annotated[str, Within(limits.URL_CHARS, printable=True)]


def cut(text: str, most: int) -> str:
    """``text``, cut to at most ``most`` characters, saying so."""
    return text if len(text) <= most else text[: most - 12] + "… (cut here)"


def _shape(value: Any) -> tuple[int, bool]:
    """How deeply lists and mappings nest in ``value``, and whether a text in it holds a NUL
    (without recursion, so that any depth is safe; it stops once too deep)."""
    deepest, nul, pending = 0, False, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            nul = nul or "\x00" in item
        elif isinstance(item, dict | list | tuple):
            deepest = max(deepest, depth)
            if depth > limits.JSON_DEPTH:
                break
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)
    return deepest, nul


def nested_values(value: Any) -> Iterator[Any]:
    """``value`` and every value inside it (mappings and lists of plain JSON)."""
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from nested_values(child)


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON (what it weighs in a Temporal payload)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def check_plain_json(value: Any, what: str, limit: int) -> None:
    """Refuses, with a ValueError that says why, what cannot go to the store and to Temporal
    as it is: NaN or infinite numbers and NUL characters (PostgreSQL's JSON refuses both),
    nesting deeper than ``JSON_DEPTH``, or more than ``limit`` bytes of JSON."""
    depth, nul = _shape(value)
    if depth > limits.JSON_DEPTH:
        raise ValueError(f"{what} nests lists and mappings more than {limits.JSON_DEPTH} deep")
    if nul:
        raise ValueError(f"{what} must not contain NUL characters")
    try:
        size = len(json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    except ValueError:
        raise ValueError(f"{what} must not hold NaN or infinite numbers") from None
    if size > limit:
        raise ValueError(f"{what} is {size:,} bytes of JSON; at most {limit:,}")


def check_json_as_before_limits(value: Any, what: str) -> None:
    """The check events had before ``automation/limits.py`` (64 KiB counted with spaces and
    ASCII escapes, 32 deep, no NaN, no NUL): histories recorded then replay with it, so
    that each event is taken or refused as it was."""
    if _shape(value)[0] > 32:
        raise ValueError(f"{what} nests lists and mappings more than 32 deep")
    try:
        text = json.dumps(value, allow_nan=False, default=str)
    except ValueError:
        raise ValueError(f"{what} must not hold NaN or infinite numbers") from None
    if "\\u0000" in text:
        raise ValueError(f"{what} must not contain NUL characters")
    if (size := len(text.encode())) > 64 * 1024:
        raise ValueError(f"{what} is {size} bytes of JSON; at most {64 * 1024}")
