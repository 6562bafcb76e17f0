"""Templates in rule parameters: Jinja in a sandbox, so pipeline authors cannot reach Python.

``{{ order.number }}``, ``{{ customer.first_name }}``, ``{{ variables.code }}``... A
missing value renders as an empty string, as in the CRMs store owners know.

Jinja's sandbox keeps Python out, but not the cost: a loop in a loop, a string multiplied
a billion times. So a template is either *plain* (``is_plain``: values, conditions and
cheap filters, whose cost its length and its values bound), which renders where it is, or
it renders in a separate process with a budget of time and memory
(``activities/templates.py``). Either way its output is cut off at a limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from typing import Annotated, Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import AfterValidator

from automation import limits


@cache
def _environment(html: bool = False) -> ImmutableSandboxedEnvironment:
    # Chainable: {{ trigger.payload.x }} renders empty when there is no payload at all.
    # HTML templates escape the values they insert: a customer named <script> stays text.
    return ImmutableSandboxedEnvironment(autoescape=html, keep_trailing_newline=True, undefined=ChainableUndefined)


def check_template(text: str) -> str:
    """Refuses text that is not a valid template, naming the line and the problem."""
    if (problem := _template_problem(text)) is not None:
        raise ValueError(problem)
    return text


@lru_cache(maxsize=4096)
def _template_problem(text: str) -> str | None:
    # Cached: a rule's parameters are checked again each time it runs.
    try:
        _environment().parse(text)
    except TemplateSyntaxError as err:
        return f"template error on line {err.lineno}: {err.message}"
    except (RecursionError, MemoryError):
        return "template nests too deeply"
    return None


Template = Annotated[str, AfterValidator(check_template)]
"""A string parameter that may hold ``{{ ... }}`` placeholders."""

_PLAIN_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Getattr, nodes.Getitem,
    nodes.Slice, nodes.Filter, nodes.Test, nodes.If, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not,
    nodes.Compare, nodes.Operand, nodes.Concat, nodes.Add, nodes.Sub, nodes.Neg, nodes.Pos, nodes.List,
    nodes.Tuple, nodes.Dict, nodes.Pair, nodes.Keyword,
)  # fmt: skip
"""What a plain template is made of: no loop, call, macro, ``*``, ``**`` or ``%``, and no
``set`` (a value set to itself twice over, twenty times, is a million times its size)."""
_PLAIN_NAMES = 50
"""Values a plain template may name: each copy of a value it makes costs the value's size."""
_PLAIN_FILTERS = frozenset(
    (
        "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
        "forceescape", "int", "items", "join", "last", "length", "list", "lower", "max", "min", "reverse",
        "round", "safe", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
        "unique", "upper", "urlencode", "wordcount",
    )
)  # fmt: skip
"""Filters whose output and time grow no faster than their input (not ``center``,
``indent``, ``replace``, ``format``, ``map``... which take sizes or names of other work)."""
_GROWING_FILTERS = frozenset(
    ("dictsort", "e", "escape", "forceescape", "items", "join", "list", "string", "tojson", "urlencode")
)
"""Of those, the ones whose output can be several times their input: one is bounded, but
they compound when one takes another's output, so a plain template has one at most on
any path of its expressions."""


@lru_cache(maxsize=4096)
def is_plain(text: str) -> bool:
    """Whether rendering ``text`` costs no more than its length and its values allow."""
    try:
        root = _environment().parse(text)
    except (TemplateError, RecursionError, MemoryError):
        return False
    pending: list[tuple[nodes.Node, int]] = [(root, 0)]
    names = 0
    while pending:
        node, growing = pending.pop()
        if not isinstance(node, _PLAIN_NODES) or (isinstance(node, nodes.Filter) and not _plain_filter(node)):
            return False
        growing += isinstance(node, nodes.Filter) and node.name in _GROWING_FILTERS
        if growing > 1:  # x|list|string|list|string... grows five times at each step
            return False
        names += isinstance(node, nodes.Name)
        pending.extend((child, growing) for child in node.iter_child_nodes())
    return names <= _PLAIN_NAMES


def _plain_filter(node: nodes.Filter) -> bool:
    """A cheap filter, given constants only (``join(order.huge)`` repeats a value per item)."""
    arguments = [*node.args, *(keyword.value for keyword in node.kwargs)]
    plain_arguments = all(isinstance(argument, nodes.Const) for argument in arguments)
    return node.name in _PLAIN_FILTERS and plain_arguments and node.dyn_args is None and node.dyn_kwargs is None


@lru_cache(maxsize=1024)
def _compiled(text: str, html: bool) -> JinjaTemplate:
    return _environment(html).from_string(text)


def _joined(parts: Iterator[str], most: int) -> str:
    """The parts, stopping as soon as they come to more than ``most`` characters."""
    out, size = [], 0
    for part in parts:
        size += len(part)
        if size > most:
            raise ValueError(f"template output is over {most:,} characters")
        out.append(part)
    return "".join(out)


def render(text: str, values: Mapping[str, Any], html: bool = False, most: int = limits.TEMPLATE_OUTPUT_CHARS) -> str:
    """Raises ValueError, saying why, for a template that cannot render (e.g. ``{{ 1 + "a" }}``),
    or whose output is over ``most`` characters. With ``html``, the values inserted are
    HTML-escaped. No budget of time or memory here: call it for a plain template, or in
    the sandbox process."""
    try:
        return _joined(_compiled(text, html).generate(values), most)
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as err:
        if isinstance(err, ValueError) and str(err).startswith("template output"):
            raise
        raise ValueError(f"template cannot be rendered: {err}") from None
