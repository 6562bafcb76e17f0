"""The base of pipeline models: strict at the edge, tolerant inside.

A pipeline file is checked strictly (a misspelt parameter is an error), but a pipeline
carried by a running order, or stored, is read tolerantly: a parameter that a later
version of the code no longer has is ignored, so that the change does not break the
orders already running (the replay test holds us to it).
"""

from __future__ import annotations

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
