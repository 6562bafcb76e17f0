"""Reading a record into variables, shared by Detailed information and Employee
information (a module starting with ``_`` is a helper, not a rule type)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PREFIX_PATTERN = r"^[A-Za-z_]\w{0,39}$"
"""A prefix that keeps ``variables.<prefix><field>`` a plain name in templates."""


def as_variables(prefix: str, record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    # An empty value becomes "", as a missing value renders in templates, never "None".
    return {prefix + name: "" if record.get(name) is None else record[name] for name in fields}
