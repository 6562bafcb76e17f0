"""Templates in rule parameters: Jinja in a sandbox, so pipeline authors cannot reach Python.

``{{ order.number }}``, ``{{ customer.first_name }}``, ``{{ variables.code }}``... A
missing value renders as an empty string, as in the CRMs store owners know.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import AfterValidator


@cache
def _environment(html: bool = False) -> ImmutableSandboxedEnvironment:
    # Chainable: {{ trigger.payload.x }} renders empty when there is no payload at all.
    # HTML templates escape the values they insert: a customer named <script> stays text.
    return ImmutableSandboxedEnvironment(autoescape=html, keep_trailing_newline=True, undefined=ChainableUndefined)


def check_template(text: str) -> str:
    """Refuses text that is not a valid template, naming the line and the problem."""
    try:
        _environment().parse(text)
    except TemplateSyntaxError as err:
        raise ValueError(f"template error on line {err.lineno}: {err.message}") from None
    except (RecursionError, MemoryError):
        raise ValueError("template nests too deeply") from None
    return text


def render(text: str, values: Mapping[str, Any], html: bool = False) -> str:
    """Raises ValueError, saying why, for a template that cannot render (e.g. ``{{ 1 + "a" }}``).
    With ``html``, the values inserted are HTML-escaped."""
    try:
        return _environment(html).from_string(text).render(values)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as err:
        raise ValueError(f"template cannot be rendered: {err}") from None


Template = Annotated[str, AfterValidator(check_template)]
"""A string parameter that may hold ``{{ ... }}`` placeholders."""
