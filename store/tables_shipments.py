"""What the Pay / Ship / Cancel order, Allow delivery and Delete order rules record about
an order's shipments and the order itself, beside the rows of ``store/tables.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from store.columns import when


class ShipmentMark(SQLModel, table=True):
    """A shipment marked paid, shipped, cancelled or delivery approved: once per mark,
    whichever rule run got there first (``run_key``)."""

    __tablename__ = "shipment_marks"
    __table_args__ = (UniqueConstraint("order_id", "shipment_id", "mark"),)
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(index=True, description="the rule run that set the mark")
    order_id: str = Field(index=True)
    shipment_id: str
    mark: str = Field(description="paid, shipped, cancelled, delivery_approved")
    created_at: datetime = when(nullable=False)


class DeletedOrder(SQLModel, table=True):
    """An order the Delete order rule deleted; its workflow ends."""

    __tablename__ = "deleted_orders"
    order_id: str = Field(primary_key=True)
    run_key: str = Field(description="the rule run that deleted it")
    deleted_at: datetime = when(nullable=False)
