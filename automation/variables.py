"""Declared variables and constants: a name's type, whether it holds a list, its default
and what it is for, and the one function that reads a value as that type.

A pipeline declares them (``variables:`` and ``constants:`` in its file). Variables
belong to each order and are set by rules; constants are the pipeline's, and an admin can
change them without editing the file. Values are kept as plain JSON: a date is its ISO text
(``2026-12-03``), a date and time its ISO text with its offset, an employee its id.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, model_validator

from automation import limits
from automation.delays import parse_duration
from automation.models import StrictFromOutside, Title, is_inside

ValueType = Literal["string", "number", "integer", "boolean", "date", "datetime", "employee"]
VALUE_TYPES: tuple[str, ...] = get_args(ValueType)
MOST_ITEMS = 100
"""Items of one list value."""


class Declaration(StrictFromOutside):
    """A variable or a constant as the pipeline declares it. In a file, a type alone
    (``reminders: integer``) is short for ``{type: integer}``."""

    type: ValueType
    multiple: bool = Field(default=False, description="a list of values of the type")
    default: Any = Field(default=None, description="the value before any rule or admin sets one")
    description: Title | None = None

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _default_of_its_type(self, info: ValidationInfo) -> Declaration:
        if not is_inside(info) and self.default is not None:
            object.__setattr__(self, "default", self.read(self.default))
        return self

    @property
    def type_name(self) -> str:
        return f"list of {self.type}" if self.multiple else self.type

    @property
    def with_article(self) -> str:
        return ("an " if self.type_name[0] in "aeiou" else "a ") + self.type_name

    def read(self, value: Any) -> Any:
        """``value`` as this type, in its plain JSON form (a text such as a template's output
        read as a number, a date...); ``ValueError`` says why it is not one. None is empty."""
        if value is None:
            return None
        if not self.multiple:
            return read_as(self.type, value)
        if isinstance(value, str) and value.strip().startswith("["):
            value = _json_list(value)
        if not isinstance(value, list | tuple):
            raise ValueError(f"a {self.type_name} is a list: {_shown(value)} is not one")
        if len(value) > MOST_ITEMS:
            raise _Refused(f"a list holds at most {MOST_ITEMS} values, not {len(value)}")
        return [read_as(self.type, item) for item in value]

    def read_text(self, text: str) -> Any:
        """A value typed on a command line: a list as JSON or separated by commas."""
        if self.multiple and not text.strip().startswith("["):
            return self.read([item.strip() for item in text.split(",") if item.strip()])
        return self.read(text)


def inferred(value: Any) -> Declaration:
    """The declaration of a constant the file gives as a plain value: its type is the
    value's (``12`` a number, ``true`` a boolean, a text a string)."""
    if isinstance(value, bool):
        kind: ValueType = "boolean"
    elif isinstance(value, int | float):
        kind = "number"
    elif value is None or isinstance(value, str):
        kind = "string"
    else:
        raise ValueError("a constant is a text, a number, true or false, empty, or a declaration with a type")
    if isinstance(value, str) and len(value) > limits.CONSTANT_CHARS:
        raise ValueError(f"at most {limits.CONSTANT_CHARS} characters")
    return Declaration.model_construct(type=kind, multiple=False, default=value, description=None)


def read_as(kind: str, value: Any) -> Any:
    """One value as the type ``kind``; ``ValueError`` says why it is not one."""
    reader = _READERS.get(kind)
    if reader is None:
        raise ValueError(f"unknown type {kind!r} (types: {', '.join(VALUE_TYPES)})")
    try:
        return reader(value)
    except _Refused:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise ValueError(f"{_shown(value)} is not {_A[kind]}") from None


class _Refused(ValueError):
    """A value of the right kind that is still refused; its message says why."""


def _string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError
    text = value if isinstance(value, str) else str(value)
    if len(text) > limits.CONSTANT_CHARS:
        raise _Refused(f"at most {limits.CONSTANT_CHARS} characters")
    return text


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):  # a whole number is read exactly, not through a float
        text = value.strip()
        number: Any = int(text) if _WHOLE.fullmatch(text) else float(text) if _DECIMAL.fullmatch(text) else None
    else:
        number = value
    if not isinstance(number, int | float) or (isinstance(number, float) and not math.isfinite(number)):
        raise ValueError
    if abs(number) >= 10**limits.NUMBER_DIGITS:
        raise _Refused(f"at most {limits.NUMBER_DIGITS} digits")
    return number


def _integer(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float) and not number.is_integer():
        raise ValueError
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = value.strip()
    return (datetime.fromisoformat(text).date() if "T" in text or " " in text else date.fromisoformat(text)).isoformat()


def _datetime(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        raise ValueError  # a time without its offset means a different moment in each store's zone
    return moment.isoformat()


def _employee(value: Any) -> str:
    text = _string(value).strip()
    if not text or len(text) > limits.SLUG_CHARS or any(c.isspace() for c in text):
        raise ValueError
    return text


_WHOLE = re.compile(r"[+-]?\d{1,40}")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_READERS = {"string": _string, "number": _number, "integer": _integer, "boolean": _boolean,
            "date": _date, "datetime": _datetime, "employee": _employee}  # fmt: skip
_A = {"string": "a text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
      "date": "a date (YYYY-MM-DD)", "datetime": "a date and time with its offset (2026-12-03T10:00:00+00:00)",
      "employee": "an employee id"}  # fmt: skip


def _json_list(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a JSON list") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def typed(declared: Mapping[str, Declaration], values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``values`` with each declared one read as its type, and why those that are not of
    their type are not (they are kept as they came: the caller refuses them or not)."""
    kept, problems = dict(values), []
    for name, value in values.items():
        if name in declared:
            try:
                kept[name] = declared[name].read(value)
            except ValueError as err:
                problems.append(f"variables.{name} is {declared[name].with_article}: {err}")
    return kept, problems


Operation = Literal["set", "add", "subtract", "multiply", "divide"]


def calculate(start: Any, operation: Operation, by: Any) -> Any:
    """Simple arithmetic of the Set variable rule: a number with a number, or a date (or a
    date and time) moved by a duration (``3d``, ``2h``; a number is days). ``ValueError``
    says why it cannot be done."""
    if operation == "set":
        return start
    if start is None or start == "":
        raise ValueError(f"nothing to {operation}: the value it starts from is empty")
    if by is None or by == "":
        raise ValueError(f"nothing to {operation} by: its 'by' is empty")
    moment = _as_moment(start)
    if moment is not None:
        return _moved(moment, operation, by)
    a, b = _operand(start, "the value it starts from"), _operand(by, "'by'")
    match operation:
        case "add":
            result: float = a + b
        case "subtract":
            result = a - b
        case "multiply":
            result = a * b
        case _:
            if b == 0:
                raise ValueError("cannot divide by zero")
            result = a / b
    if not math.isfinite(result) or abs(result) >= 10**limits.NUMBER_DIGITS:
        raise ValueError(f"the result is too large (at most {limits.NUMBER_DIGITS} digits)")
    return result


def _operand(value: Any, what: str) -> int | float:
    try:
        return _number(value)
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"{what} is not a number, a date or a date and time: {_shown(value)}") from None


def _as_moment(value: Any) -> date | datetime | None:
    """A date or a date and time given as such or as ISO text; None for anything else."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or "-" not in value[1:]:
        return None  # "-3" is a number, not a date
    text = value.strip()
    try:
        return datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        return None


def _moved(moment: date | datetime, operation: Operation, by: Any) -> str:
    if operation not in ("add", "subtract"):
        raise ValueError(f"a date can be moved by adding or subtracting a duration, not by {operation}")
    step = parse_duration(by.strip() if isinstance(by, str) else by)
    if isinstance(step, int | float | str) and not isinstance(step, bool):
        step = timedelta(days=_operand(step, "'by'"))
    if not isinstance(step, timedelta):
        raise ValueError(f"'by' is not a duration (3d, 12h, 1w) or a number of days: {_shown(by)}")
    if not isinstance(moment, datetime) and step % timedelta(days=1):
        raise ValueError(f"a date moves by whole days, not by {step}")
    try:
        return (moment + step if operation == "add" else moment - step).isoformat()
    except OverflowError:
        raise ValueError("the date it gives is out of range") from None


def types_of(declared: Mapping[str, Declaration], values: Mapping[str, Any]) -> dict[str, str]:
    """Each variable's type: as declared, or by its value for one a rule set undeclared."""
    found = {name: declaration.type_name for name, declaration in declared.items()}
    for name, value in values.items():
        if name not in found:
            found[name] = _type_of_value(value)
    return found


def _type_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "list"
    return "string" if isinstance(value, str) else "empty" if value is None else "value"
