"""The activities the workflows call besides the rules: their names, inputs and
results. The workflow calls them by name, so that it imports no activity code; the
activities in ``activities/`` implement them under these names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from automation.models import INSIDE
from automation.order import NewOrder
from automation.pipeline import Pipeline
from automation.state import TimelineEntry

LOAD_PIPELINE = "load_pipeline"
"""pipeline id -> the ``Pipeline`` a new order runs (orders begun before ``START_ORDER``)."""
START_ORDER = "start_order"
"""``NewOrder`` -> the ``Pipeline`` it runs, once its arrival (customer card, shipments) is in
the store, where its rules read them (a local activity)."""
START_VERSIONED_ORDER = "start_versioned_order"
"""``NewOrder`` -> ``VersionAtEntry``: ``START_ORDER`` that also says the version's number."""
VERSION_AT_ENTRY = "version_at_entry"
"""``StageEntry`` -> ``VersionAtEntry``: as the order enters a stage, the newest version of its
pipeline if the order does not run it yet (a local activity)."""
CONSTANTS_NOW = "constants_now"
"""``ConstantsWanted`` -> {name: value}: the constants an admin has set, as they are now, of
those a rule's condition reads (a local activity; those not set keep the file's value)."""
SAVE_ORDER = "save_order"
"""``SaveOrderInput`` -> None: the order's row and its new timeline entries (a local activity)."""
SETTLE_STOPPED_MESSAGE = "settle_stopped_message"
"""run key -> the status of the outbox row of a message rule stopped while it ran (None: no row)."""
RESEND_MESSAGE = "resend_message"
"""``ResendInput`` -> ``ResendResult``: an operator's resend of an unconfirmed message."""
LEAVE_FOLLOW_UP_NOTE = "leave_follow_up_note"
"""``FollowUpNote`` -> None: the ``follow_up`` child workflow's note in the order's log."""

SETTLE_PATIENCE = timedelta(seconds=10)
"""The rule activities' heartbeat timeout: a live attempt has heard of its stop by then (it
heartbeats at least every 8 s). Safe even if one has not: a row settled under an attempt
cannot be handed over by it any more (the outbox's compare-and-set), and a message it was
handing over stays unconfirmed, never sent again."""


class ConstantsWanted(BaseModel):
    pipeline_id: str
    names: list[str]


class StageEntry(BaseModel):
    pipeline_id: str
    number: int | None
    """The version the order runs; None: it began before versions were kept..."""
    content_hash: str | None = None
    """...then the hash of its pipeline, to tell whether it runs the newest's content."""
    stage: str
    """The stage it enters, as its version names it."""
    announced: int | None = None
    """The newest version announced to the order (``pipeline_version``): the worker asks the
    store, not what it read lately, unless it runs that one already."""


class VersionAtEntry(BaseModel):
    """Which version an order entering a stage runs it under."""

    outcome: Literal["current", "same_content", "newest", "no_place"]
    """``current``: its version is the newest; ``same_content``: it runs the newest's content
    (it learns the number); ``newest``: it takes ``pipeline``; ``no_place``: the newest has no
    such stage and says of no stage for it: the order stays on its version for this stage."""
    number: int | None = None
    pipeline: Pipeline | None = None
    stage: str | None = None
    """Where it goes in the newest version: the stage, or the stage a removed one maps to."""

    @classmethod
    def taking(cls, number: int | None, definition: dict[str, Any], stage: str) -> VersionAtEntry:
        """The order takes the pipeline of ``definition``, as stored: read once, ``INSIDE``
        (not checked again as a file is)."""
        data = {"outcome": "newest", "number": number, "pipeline": definition, "stage": stage}
        return cls.model_validate(data, context=INSIDE)


class SaveOrderInput(BaseModel):
    order: NewOrder
    stage: str
    responsible_id: str | None
    fields: dict[str, Any]
    variables: dict[str, Any]
    entries: list[TimelineEntry]
    save_customer: bool = False
    run_number: int = 0
    run_id: str = ""
    history_length: int = 0
    """Which run writes (its number and id), at which length of its history: a discarded
    task's writes are put right (``store.orders.WrittenBy``)."""


class FollowUpNote(BaseModel):
    order_id: str
    run_key: str
    note: str


class ResendInput(BaseModel):
    run_key: str = Field(description="the message's rule run")
    by: str = Field(description="who decided to resend it")
    key: str = Field(description="this resend's idempotency key for the provider")


class ResendResult(BaseModel):
    status: str = Field(description="the message's status after the resend: sent, or unconfirmed again")
    summary: str
