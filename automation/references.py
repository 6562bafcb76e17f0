"""What a rule or a trigger reads of the order's variables and the pipeline's constants
(in its templates and its condition), and what variables a rule sets. The pipeline's
checks (undeclared names are file errors) and the linter (read before set) share it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from automation.conditions import Condition
from automation.models import nested_values

Reference = tuple[str, str]
"""(``variables`` or ``constants``, name)."""

_PARSER = ImmutableSandboxedEnvironment()


def reads(params: Any, condition: Condition | None, *paths: str | None) -> set[Reference]:
    """The variables and constants that templates in ``params``, ``condition`` and dotted
    ``paths`` (a delay's field) read."""
    found: set[Reference] = set()
    for path in paths:
        root, _, name = (path or "").partition(".")
        if root in ("variables", "constants") and name:
            found.add((root, name.split(".")[0]))
    for text in nested_values(params):
        if isinstance(text, str) and ("{{" in text or "{%" in text):
            found |= _template_reads(text)
    clauses = condition.model_dump(mode="json") if condition is not None else None
    for clause in nested_values(clauses):
        if not (isinstance(clause, dict) and isinstance(clause.get("field"), str)):
            continue
        root, _, name = clause["field"].partition(".")
        if root in ("variables", "constants") and name:
            found.add((root, name.split(".")[0]))
    return found


def matches(written: str, name: str) -> bool:
    """Whether a variable a rule sets (a name, or a prefix ending in ``*``) is ``name``."""
    return name.startswith(written[:-1]) if written.endswith("*") else name == written


def sets(written: Iterable[str], name: str) -> bool:
    return any(matches(w, name) for w in written)


def _template_reads(text: str) -> set[Reference]:
    try:
        tree = _PARSER.parse(text)
    except TemplateSyntaxError:
        return set()  # the file's validation says so
    found = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        key: object
        if isinstance(node, nodes.Getattr):
            target, key = node.node, node.attr
        elif isinstance(node, nodes.Getitem):
            target, key = node.node, getattr(node.arg, "value", None)
        else:
            continue
        if isinstance(target, nodes.Name) and target.name in ("variables", "constants") and isinstance(key, str):
            if isinstance(node, nodes.Getattr) and key in _MAPPING_METHODS:
                continue  # variables.get('x'), variables.items(): a method, not a name
            found.add((target.name, key))
    for call in tree.find_all(nodes.Call):  # variables.get('x') reads x
        method = call.node
        if (isinstance(method, nodes.Getattr) and method.attr == "get" and isinstance(method.node, nodes.Name)
                and method.node.name in ("variables", "constants") and call.args
                and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str)):  # fmt: skip
            found.add((method.node.name, call.args[0].value))
    return found


_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
