"""The catalog of rule and trigger types, grouped as the source documents group them (rules
for employees, rules for customer communication, triggers), with their parameters and
types, searchable by words. Made from the same specs the engine validates pipelines with
(``rule_kinds/``, ``events.EVENT_TYPES``), so that it cannot drift from them."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from automation.events import EVENT_TYPES
from automation.rule_kinds import RULE_KINDS

Group = Literal["employees", "customer_communication", "triggers"]
GROUPS: dict[Group, str] = {
    "employees": "Rules for employees",
    "customer_communication": "Rules for customer communication",
    "triggers": "Triggers (they change the stage)",
}


class Parameter(BaseModel):
    name: str
    type: str
    """In words: ``text``, ``integer``, ``one of: info, warning``, ``list of text``..."""
    required: bool
    default: Any = None
    description: str = ""


class Entry(BaseModel):
    """One rule type (``type:`` of a rule) or trigger type (``type:`` of a trigger)."""

    kind: Literal["rule", "trigger"]
    group: Group
    name: str
    title: str
    description: str
    parameters: list[Parameter]


@cache
def catalog() -> tuple[Entry, ...]:
    """Every type, by group (in ``GROUPS`` order), then by title."""
    rules = [
        Entry(kind="rule", group=kind.group, name=name, title=kind.title, description=kind.description,
              parameters=_parameters(kind.params.model_json_schema()))
        for name, kind in RULE_KINDS.items()
    ]  # fmt: skip
    triggers = [
        Entry(kind="trigger", group="triggers", name=name, title=event.title, description=event.who_sends(),
              parameters=_parameters(event.params.model_json_schema()))
        for name, event in EVENT_TYPES.items()
    ]  # fmt: skip
    order = list(GROUPS)
    return tuple(sorted(rules + triggers, key=lambda entry: (order.index(entry.group), entry.title.lower())))


def search(words: str = "", group: Group | None = None) -> list[Entry]:
    """The entries of ``group`` (all groups: None) in which every word of ``words`` appears,
    in its name, title, description or parameters (any case, accents or not); those with
    every word in their title or name first."""
    wanted = _folded(words).split()
    found = [e for e in catalog() if (group is None or e.group == group) and all(w in _text(e) for w in wanted)]
    return sorted(found, key=lambda e: not all(w in _folded(f"{e.title} {e.name}") for w in wanted))


def _text(entry: Entry) -> str:
    parameters = " ".join(f"{p.name} {p.description}" for p in entry.parameters)
    return _folded(f"{entry.name} {entry.name.replace('_', ' ')} {entry.title} {entry.description} {parameters}")


def _folded(text: str) -> str:
    """Lower case, accents removed: ``E-mail`` and ``é-mail`` match ``e-mail``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _parameters(schema: dict[str, Any]) -> list[Parameter]:
    definitions = schema.get("$defs", {})
    required = set(schema.get("required", []))
    return [
        Parameter(name=name, type=_type(field, definitions), required=name in required, default=field.get("default"),
                  description=field.get("description", ""))
        for name, field in schema.get("properties", {}).items()
    ]  # fmt: skip


def _type(field: dict[str, Any], definitions: dict[str, Any]) -> str:
    """A JSON Schema type in words."""
    if "$ref" in field:
        name = field["$ref"].rsplit("/", 1)[-1]
        target = definitions.get(name, {})
        return _type(target, definitions) if "enum" in target or "type" in target else _words(name)
    if "enum" in field:
        return "one of: " + ", ".join(str(value) for value in field["enum"])
    if "const" in field:
        return repr(field["const"])
    if "anyOf" in field:
        kinds = [_type(option, definitions) for option in field["anyOf"] if option.get("type") != "null"]
        optional = any(option.get("type") == "null" for option in field["anyOf"])
        return " or ".join(dict.fromkeys(kinds)) + (" (or empty)" if optional else "")
    match field.get("type"):
        case "array":
            return "list of " + _type(field.get("items", {}), definitions)
        case "string":
            return {"date-time": "date and time", "date": "date", "uri": "URL"}.get(field.get("format", ""), "text")
        case "object" if "properties" in field:
            return _words(field.get("title", "object"))
        case "object":
            return "mapping"
        case None:
            return "any value"
        case other:
            return str(other)


def _words(name: str) -> str:
    """``DelaySpec`` -> ``delay spec``."""
    spaced = "".join(f" {c}" if c.isupper() else c for c in name).strip()
    return spaced.lower().removesuffix(" params")
