"""The activities the workflows call besides the rules: their names, inputs and
results. The workflow calls them by name, so that it imports no activity code; the
activities in ``activities/`` implement them under these names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from automation.order import NewOrder
from automation.state import TimelineEntry

LOAD_PIPELINE = "load_pipeline"
"""pipeline id -> the ``Pipeline`` a new order runs (orders begun before ``START_ORDER``)."""
START_ORDER = "start_order"
"""``NewOrder`` -> the ``Pipeline`` it runs, once its arrival (customer card, shipments) is in
the store, where its rules read them (a local activity)."""
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
