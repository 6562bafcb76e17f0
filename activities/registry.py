"""Each rule kind's implementation, found by the kind's name: the ``run`` function of
``activities/rules/<name>.py``. The kinds themselves are listed in the core
(``automation/rule_kinds/``); nothing needs listing here."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from activities.rules.base import RuleContext
from automation.rule_kinds import RULE_KINDS
from automation.rules import RuleResult

RunRule = Callable[[RuleContext, Any], Awaitable[RuleResult]]
"""(the rule's context, its params as the kind's model) -> what it did."""


def implementation(name: str) -> RunRule:
    """The ``run`` of the rule kind ``name``; a worker without one refuses to start."""
    try:
        module = importlib.import_module(f"activities.rules.{name}")
    except ModuleNotFoundError as err:
        raise LookupError(f"rule kind {name!r} has no implementation: activities/rules/{name}.py is missing") from err
    run: RunRule | None = getattr(module, "run", None)
    if run is None:
        raise LookupError(f"activities/rules/{name}.py has no run function")
    return run


IMPLEMENTATIONS: dict[str, RunRule] = {name: implementation(name) for name in RULE_KINDS}
