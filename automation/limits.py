"""One budget of limits for everything the engine accepts.

Each id, text, list, map, template, constant, event, order and pipeline file has a limit
here, chosen so that whatever sequence of accepted input arrives, every payload, search
attribute and continue-as-new input stays far below Temporal's own limits (2 MiB per
payload, 2 KiB per search attribute value, 4 MiB per history event). Input over a limit
is refused where it enters (the HTTP API, the workflow's update validator and signal
handler, the CLI, the pipeline and directory loaders), naming the place and the limit.

A limit holds for an order's run from the ``limits-2026-12`` patch on, and a replay of
that run checks its history against the same values: changing a value here changes what
a running order accepts on replay, so a new value comes with a new patch id (and the
old value kept for the runs under the old one).

``tests/core/test_state_budget.py`` builds the biggest state these limits allow and checks
that it stays under ``STATE_BUDGET_BYTES``; README's "Limits" table is made from
``LIMITS`` (``starter.py limits --write``; a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB

# --- Temporal's own limits (server defaults) that the budget keeps far below ------------
TEMPORAL_PAYLOAD_BYTES = 2 * MiB
TEMPORAL_SEARCH_ATTRIBUTE_BYTES = 2 * KiB
STATE_BUDGET_BYTES = 1 * MiB
"""The biggest the order's state (the continue-as-new input), a rule's input or the
``state`` query's answer can get: half of a payload."""

# --- ids and text -----------------------------------------------------------------------
ORDER_ID_CHARS = 100
ID_CHARS = 100
"""Customers, employees (the responsible), shipments, templates, lists, channels, forms."""
SLUG_CHARS = 64
"""Pipeline and stage ids (lower case, digits, ``_`` and ``-``)."""
EVENT_ID_CHARS = 200
TITLE_CHARS = 100
NAME_CHARS = 200
"""People's and companies' names, list titles."""
CONTACT_CHARS = 320
"""An e-mail address or phone number."""
TEXT_CHARS = 20_000
"""Any other text of a pipeline, an order, an event or the directory file."""
TEMPLATE_CHARS = 20_000

# --- JSON documents ------------------------------------------------------------------------
EVENT_BYTES = 64 * KiB
ORDER_BYTES = 64 * KiB
"""An order as a service creates it (fields, customer card, shipments)."""
FIELDS_BYTES = 64 * KiB
"""The order's fields as rules and events change them."""
VARIABLES_BYTES = 64 * KiB
JSON_DEPTH = 32
CONTACTS = 20
"""E-mail addresses, and phone numbers, of one customer card."""
SHIPMENTS = 50

# --- pipeline and directory files ---------------------------------------------------------
FILE_BYTES = 256 * KiB
PIPELINE_BYTES = 128 * KiB
"""A pipeline as stored and carried by its orders (JSON)."""
STAGES = 50
RULES_PER_STAGE = 50
TRIGGERS_PER_STAGE = 50
CONSTANTS = 100
VARIABLES = 100
"""Declared variables of a pipeline."""
VARIABLE_DEFAULTS_BYTES = 16 * KiB
"""What a new order's variables start as, at most: a quarter of their budget."""
CONSTANT_CHARS = 2_000
CONSTANT_BYTES = 4 * KiB
"""A constant's value an admin sets, as JSON (a list of texts included): what conditions
fetch into the order's history stays small."""
YAML_DEPTH = 32
YAML_ALIASES = 100
YAML_NODES = 50_000
"""Values in a file, counted with every alias expanded (a "billion laughs" file has 10^9)."""
NUMBER_DIGITS = 18
DURATION_DAYS = 3_650
"""Delays, Wait deadlines and other durations: ten years."""

# --- templates ----------------------------------------------------------------------------
TEMPLATE_OUTPUT_CHARS = 64 * KiB
DOCUMENT_CHARS = 1 * MiB
"""A document Create document makes (HTML, stored, served behind its link)."""
TEMPLATE_SECONDS = 2.0
TEMPLATE_MEMORY_BYTES = 512 * MiB

# --- the HTTP API ---------------------------------------------------------------------------
REQUEST_BODY_BYTES = 128 * KiB
CODEC_REQUEST_BYTES = 8 * MiB
"""The codec server's (``/codec/...``): the Web UI sends the payloads of a history at once."""
URL_CHARS = 2_000
UPDATES_PER_ORDER = 8
"""Events with ``?wait=true`` (updates) one API process has in flight to one order; more
wait their turn (Temporal takes at most 10 in flight per order)."""

# --- what the workflow keeps --------------------------------------------------------------
TIMELINE_MESSAGE_CHARS = 1_000
TIMELINE_KEPT = 100
"""Stored timeline entries the workflow keeps for its ``state`` query."""
TIMELINE_KEPT_DATA_BYTES = 1 * KiB
"""Data of a stored entry the workflow keeps (bigger data is in the store only)."""
UNSTORED_TIMELINE_BYTES = 192 * KiB
"""Timeline not yet in the store: past it, the order takes no new event until the store
has caught up (it waits, it drops nothing)."""
CARRIED_EVENTS_BYTES = 64 * KiB
"""Events waiting for a store that is behind, handed to the next run at continue-as-new
(more wait, in this run, for the store)."""
CARRIED_WRITE_BYTES = 16 * KiB
"""A store write bigger than this (the order, its fields, variables and unstored timeline, in
JSON) is not carried by a rule activity (whose input it would swell) but made by the order."""
SEEN_EVENT_IDS = 2_000
RULE_EVENTS = 20
"""Events one rule run may raise."""


@dataclass(frozen=True)
class Limit:
    what: str
    value: str
    where: str


def _n(number: float) -> str:
    if isinstance(number, int) and number >= MiB and number % MiB == 0:
        return f"{number // MiB} MiB"
    if isinstance(number, int) and number >= KiB and number % KiB == 0:
        return f"{number // KiB} KiB"
    return f"{number:,}"


LIMITS = [
    Limit("order id", f"{ORDER_ID_CHARS} characters: letters, digits, `_ . : -`", "order, API path"),
    Limit(
        "other ids (customer, employee, shipment, template, list...)",
        f"{ID_CHARS} characters, no control characters",
        "order, event, pipeline, directory, API",
    ),
    Limit("pipeline and stage ids", f"{SLUG_CHARS} characters: `a-z 0-9 _ -`", "pipeline file, order"),
    Limit("event id, Idempotency-Key", f"{EVENT_ID_CHARS} characters", "event, API"),
    Limit("titles", f"{TITLE_CHARS} characters", "pipeline file"),
    Limit("names (people, companies, lists)", f"{NAME_CHARS} characters", "order, directory file"),
    Limit("an e-mail address or phone number", f"{CONTACT_CHARS} characters", "order, directory file, API"),
    Limit("any other text", f"{TEXT_CHARS:,} characters", "everywhere"),
    Limit("an event", f"{_n(EVENT_BYTES)} of JSON, {JSON_DEPTH} levels deep", "API, signal, update"),
    Limit("an order as created", f"{_n(ORDER_BYTES)} of JSON, {JSON_DEPTH} levels deep", "API, workflow start"),
    Limit("e-mail addresses, phone numbers of a customer", f"{CONTACTS} each", "order, directory file"),
    Limit("shipments of an order", f"{SHIPMENTS}", "order"),
    Limit("the order's fields, as rules change them", f"{_n(FIELDS_BYTES)} of JSON", "workflow"),
    Limit("the order's variables", f"{_n(VARIABLES_BYTES)} of JSON", "workflow"),
    Limit("a pipeline or directory file", f"{_n(FILE_BYTES)}, UTF-8", "CLI"),
    Limit("a pipeline", f"{_n(PIPELINE_BYTES)} of JSON", "CLI"),
    Limit(
        "stages; rules and triggers of a stage",
        f"{STAGES}; {RULES_PER_STAGE} and {TRIGGERS_PER_STAGE}",
        "pipeline file",
    ),
    Limit("constants", f"{CONSTANTS}, a text one {CONSTANT_CHARS:,} characters", "pipeline file"),
    Limit("a constant's value an admin sets", f"{_n(CONSTANT_BYTES)} of JSON", "CLI, API"),
    Limit("declared variables", f"{VARIABLES}, their defaults {_n(VARIABLE_DEFAULTS_BYTES)} of JSON", "pipeline file"),
    Limit(
        "YAML",
        f"{YAML_DEPTH} levels, {YAML_ALIASES} aliases, {YAML_NODES:,} values with aliases expanded, "
        f"numbers of {NUMBER_DIGITS} digits",
        "pipeline and directory files",
    ),
    Limit("durations (delays, deadlines)", f"{DURATION_DAYS:,} days", "pipeline file"),
    Limit("a template", f"{TEMPLATE_CHARS:,} characters", "pipeline and directory files"),
    Limit(
        "rendering a template",
        f"{TEMPLATE_SECONDS:g} s, {_n(TEMPLATE_MEMORY_BYTES)} of memory, {TEMPLATE_OUTPUT_CHARS:,} characters out "
        f"({DOCUMENT_CHARS:,} for a document)",
        "rule activities (the rule fails)",
    ),
    Limit("an HTTP request body", f"{_n(REQUEST_BODY_BYTES)}", "API (413 before it is read whole)"),
    Limit("a request to the codec server", f"{_n(CODEC_REQUEST_BYTES)}", "API (413 before it is read whole)"),
    Limit("a URL (webhook target, tracked link, Delay field...)", f"{URL_CHARS:,} characters", "API, pipeline"),
    Limit("events with `?wait=true` in flight to one order", f"{UPDATES_PER_ORDER} per API process", "API"),
    Limit("events one rule raises", f"{RULE_EVENTS}", "rule activities (the rule fails)"),
    Limit("a timeline message", f"{TIMELINE_MESSAGE_CHARS:,} characters (longer ones are cut)", "workflow"),
    Limit(
        "timeline kept in the workflow",
        f"the latest {TIMELINE_KEPT} stored entries (data over {_n(TIMELINE_KEPT_DATA_BYTES)} in the store only), "
        f"and up to {_n(UNSTORED_TIMELINE_BYTES)} not yet stored (then new events wait for the store; "
        f"at continue-as-new, up to {_n(CARRIED_EVENTS_BYTES)} of them go along)",
        "workflow",
    ),
    Limit("event ids remembered, to ignore repeats", f"the latest {SEEN_EVENT_IDS:,}", "workflow"),
]


def limits_markdown() -> str:
    lines = ["| what | limit | refused by |", "| --- | --- | --- |"]
    lines += [f"| {limit.what} | {limit.value} | {limit.where} |" for limit in LIMITS]
    return "\n".join(lines)
