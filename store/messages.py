"""The outbox as operators read it: the messages rules sent, by status and order."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.tables import Order, SentMessage

MOST = 500
"""Messages one listing answers at the most (the oldest first)."""


async def list_messages(
    db: AsyncSession,
    *,
    status: str | None = None,
    order_id: str | None = None,
    pipelines: Iterable[str] | None = None,
    most: int = MOST,
) -> list[SentMessage]:
    """The oldest ``most`` messages that match (of orders in ``pipelines``, unless None)."""
    query = select(SentMessage).order_by(col(SentMessage.created_at)).limit(most)
    if pipelines is not None:
        in_pipelines = select(Order.id).where(col(Order.pipeline_id).in_(list(pipelines)))
        query = query.where(col(SentMessage.order_id).in_(in_pipelines))
    if status is not None:
        query = query.where(SentMessage.status == status)
    if order_id is not None:
        query = query.where(SentMessage.order_id == order_id)
    return list(await db.exec(query))


async def message_order(db: AsyncSession, run_key: str) -> str | None:
    """The order a message of the outbox belongs to (None: no such message)."""
    message = (await db.exec(select(SentMessage).where(SentMessage.run_key == run_key))).first()
    return message.order_id if message is not None else None
