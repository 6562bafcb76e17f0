"""Reading a record into variables, shared by Detailed information and Employee
information (a module starting with ``_`` is a helper, not a rule type)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def as_variables(prefix: str, record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    # An empty value becomes "", as a missing value renders in templates, never "None".
    return {prefix + name: "" if record.get(name) is None else record[name] for name in fields}
