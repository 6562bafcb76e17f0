"""Workflows an order can start as children (the Start workflow rule). Their code is in
``workflows/children.py``; this names them, so pipelines are checked against the list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

CHILD_WORKFLOWS = {
    "follow_up": "waits, then leaves a follow-up note on the order (input: after_hours, note)",
}


class ChildInput(BaseModel):
    order_id: str
    run_key: str = Field(description="the starting rule run; the child's idempotency key")
    input: dict[str, Any] = Field(default_factory=dict)
