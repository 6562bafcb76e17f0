"""The base of pipeline models: strict at the edge, tolerant inside.

A pipeline file is checked strictly (a misspelt parameter is an error), but a pipeline
carried by a running order, or stored, is read tolerantly: a parameter that a later
version of the code no longer has is ignored, so that the change does not break the
orders already running (the replay test holds us to it).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, ValidatorFunctionWrapHandler, model_validator

STRICT = {"strict": True}
"""Validation context for input from people: unknown fields are errors."""


class EdgeStrict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Where a subclass turns a shorthand form into its full form."""
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _tolerant_inside(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        data = cls._prepare(data)
        if isinstance(data, dict) and not (info.context or {}).get("strict"):
            data = {name: value for name, value in data.items() if name in cls.model_fields}
        return handler(data)


MAX_JSON_BYTES = 64 * 1024
"""Events and order fields bigger than this are refused: they travel in the workflow's
history and state (Temporal caps a payload at 2 MiB); big things belong in the store."""
MAX_JSON_DEPTH = 32
"""Nor deeper than this: no order needs it, and serializers give up further down."""


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (without recursion: any depth is safe)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list | tuple):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


def check_plain_json(value: Any, what: str, limit: int = MAX_JSON_BYTES) -> None:
    """Refuses, with a ValueError that says why, what cannot go to the store and to Temporal
    as it is: NaN or infinite numbers and NUL characters (PostgreSQL's JSON refuses both),
    or more than ``limit`` bytes of JSON, or nesting deeper than ``MAX_JSON_DEPTH``."""
    if _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"{what} nests lists and mappings more than {MAX_JSON_DEPTH} deep")
    try:
        text = json.dumps(value, allow_nan=False, default=str)
    except ValueError:
        raise ValueError(f"{what} must not hold NaN or infinite numbers") from None
    if "\\u0000" in text:
        raise ValueError(f"{what} must not contain NUL characters")
    size = len(text.encode())
    if size > limit:
        raise ValueError(f"{what} is {size} bytes of JSON; at most {limit}")
