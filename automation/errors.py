"""Validation errors as people read them: ``stages[2].rules[1].params.text: at most 200 characters``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def error_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for step in loc:
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
    return path


def _message(error: ErrorDetails) -> str:
    ctx = error.get("ctx", {})
    match error["type"]:
        case "string_too_long":
            return f"at most {ctx['max_length']} characters"
        case "string_too_short" if ctx.get("min_length") == 1:
            return "must not be empty"
        case "string_too_short":
            return f"at least {ctx['min_length']} characters"
        case "too_short":
            return f"at least {ctx['min_length']} item(s)"
        case "string_pattern_mismatch":
            return f"must match {ctx['pattern']}"
        case "missing":
            return "required"
        case "extra_forbidden":
            return "unknown field"
        case "value_error":
            return str(ctx.get("error", error["msg"]))
        case "json_invalid":
            where = error["loc"][-1] if error["loc"] and isinstance(error["loc"][-1], int) else "?"
            return f"invalid JSON at character {where}: {ctx.get('error', error['msg'])}"
    message = error["msg"]
    return message if message[1:2].isupper() else message[:1].lower() + message[1:]


def describe(err: ValidationError) -> list[str]:
    """One line per problem, each naming the exact place."""
    return describe_errors(err.errors())


def describe_errors(errors: Sequence[ErrorDetails]) -> list[str]:
    lines = []
    for error in errors:
        loc = error["loc"]
        if error["type"] == "json_invalid":  # its loc ends in a character offset: the message says it
            loc = tuple(step for step in loc if not isinstance(step, int))
        path = error_path(loc)
        lines.append(f"{path}: {_message(error)}" if path else _message(error))
    return lines
