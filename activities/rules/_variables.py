"""Reading a record into variables, shared by Detailed information and Employee
information (a module starting with ``_`` is a helper, not a rule type)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from activities.rules.base import shorten
from automation.rules import RuleResult


def as_variables(prefix: str, record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    # An empty value becomes "", as a missing value renders in templates, never "None".
    return {prefix + name: "" if record.get(name) is None else record[name] for name in fields}


def read_into_variables(whose: str, prefix: str, record: Mapping[str, Any], fields: Iterable[str]) -> RuleResult:
    """The result of reading ``fields`` of ``record`` (``whose``, for the timeline) into variables."""
    variables = as_variables(prefix, record, fields)
    return RuleResult(summary=shorten(f"read {whose} into {', '.join(variables)}", 200), variables=variables)
