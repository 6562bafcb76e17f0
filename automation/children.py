"""Workflows an order can start as children (the Start workflow rule): their names and
typed inputs. Their code is in ``workflows/children.py``; pipelines are checked against
this list, and a rule's rendered input against the workflow's input model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FollowUpInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_hours: float = Field(default=24, gt=0, le=24 * 365, description="how long to wait, in hours")
    note: str = Field(default="Follow up with the customer.", min_length=1, max_length=1000)


@dataclass(frozen=True)
class ChildWorkflow:
    description: str
    input: type[BaseModel]


CHILD_WORKFLOWS: dict[str, ChildWorkflow] = {
    "follow_up": ChildWorkflow("waits, then leaves a follow-up note on the order", FollowUpInput),
}


class ChildInput(BaseModel):
    order_id: str
    run_key: str = Field(description="the starting rule run; the child's idempotency key")
    input: dict[str, Any] = Field(default_factory=dict, description="valid for the workflow's input model")
