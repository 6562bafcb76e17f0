"""Conditions on order, event and variable values: an OR of AND-groups of clauses.

In a pipeline file a condition is written as one clause, a list of clauses (all must
hold), or ``{any: [...]}`` whose items are clauses or lists of clauses. Comparison is
typed: numbers compare as numbers, ISO dates as dates, booleans as booleans.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from automation.models import StrictFromOutside, Within

Operator = Literal[
    "=", "!=", ">", ">=", "<", "<=", "in", "not in",
    "contains", "not contains", "empty", "not empty", "between",
]  # fmt: skip

_UNARY = {"empty", "not empty"}
_LIST_VALUED = {"in", "not in", "between"}


class Clause(StrictFromOutside):
    field: Annotated[str, Within(200)] = Field(
        min_length=1,
        pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$",
        description="dotted path, e.g. order.total, event.amount, variables.code",
    )
    op: Operator
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Clause:
        if self.op in _UNARY:
            return self
        if self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        if self.op in _LIST_VALUED and not isinstance(self.value, list):
            raise ValueError(f"operator {self.op!r} needs a list value")
        if self.op == "between" and len(self.value) != 2:
            raise ValueError("operator 'between' needs exactly two values [low, high]")
        return self

    def __str__(self) -> str:
        return self.field + f" {self.op}" + ("" if self.op in _UNARY else f" {self.value!r}")


class Condition(StrictFromOutside):
    """Holds when every clause of at least one group holds."""

    any: list[list[Clause]] = Field(min_length=1)

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if isinstance(data, dict) and "any" in data:
            groups = data["any"]
            if isinstance(groups, list):
                return {"any": [g if isinstance(g, list) else [g] for g in groups]}
            return data
        if isinstance(data, list):
            return {"any": [data]}
        if isinstance(data, dict) and "field" in data:
            return {"any": [[data]]}
        return data

    def holds(self, values: Mapping[str, Any]) -> bool:
        return any(all(clause_holds(c, values) for c in group) for group in self.any)

    def __str__(self) -> str:
        return " or ".join(" and ".join(str(c) for c in group) for group in self.any)

    def explained(self, values: Mapping[str, Any]) -> list[str]:
        """Each clause with the value it compared and whether it held (for a test log)."""
        return [
            f"{clause} ({clause.field} is {_shown(resolve(values, clause.field))}): "
            + ("holds" if clause_holds(clause, values) else "does not hold")
            for group in self.any
            for clause in group
        ]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def resolve(values: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None where any step is missing."""
    current: Any = values
    for step in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(step)
    return current


def clause_holds(clause: Clause, values: Mapping[str, Any]) -> bool:
    actual = resolve(values, clause.field)
    op, expected = clause.op, clause.value
    if op == "empty":
        return _is_empty(actual)
    if op == "not empty":
        return not _is_empty(actual)
    if op in ("contains", "not contains"):
        return _contains(actual, expected) == (op == "contains")
    if op in ("in", "not in"):
        found = any(_compare(actual, "=", item) for item in expected)
        return found == (op == "in")
    if op == "between":
        low, high = expected
        return _compare(actual, ">=", low) and _compare(actual, "<=", high)
    return _compare(actual, op, expected)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, dict)) and not value)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return str(expected).casefold() in actual.casefold()
    if isinstance(actual, list):
        return any(_compare(item, "=", expected) for item in actual)
    return False


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None or expected is None:  # a missing value equals nothing but None
        return {"=": actual is expected, "!=": actual is not expected}.get(op, False)
    pair = _typed_pair(actual, expected)
    if pair is None:
        return op == "!="
    a, b = pair
    try:
        match op:
            case "=":
                return bool(a == b)
            case "!=":
                return bool(a != b)
            case ">":
                return bool(a > b)
            case ">=":
                return bool(a >= b)
            case "<":
                return bool(a < b)
            case "<=":
                return bool(a <= b)
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op!r}")


def _typed_pair(actual: Any, expected: Any) -> tuple[Any, Any] | None:
    """Both values brought to one type, guided by the actual value; None if impossible."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        a, b = _as_bool(actual), _as_bool(expected)
        return None if a is None or b is None else (a, b)
    if isinstance(actual, (int, float)) or isinstance(expected, (int, float)):
        x, y = _as_number(actual), _as_number(expected)
        return None if x is None or y is None else (x, y)
    da, db = as_datetime(actual), as_datetime(expected)
    if da is not None and db is not None:
        return da, db
    return str(actual), str(expected)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(text)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
