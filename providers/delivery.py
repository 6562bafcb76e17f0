"""When a message is handed over, and what a provider says when it cannot tell whether it
went out.

A provider calls ``handing_over()`` at its point of no return: just before the SMTP DATA
command, just before an HTTP request's body leaves. Before that moment nothing can have
reached the recipient, so a retry is safe; after it, a lost answer leaves the message's
fate unknown. The outbox (``activities/rules/_outbox.py``) records the moment, durably,
through ``on_hand_over``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_HAND_OVER: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("hand_over", default=None)


class DeliveryUnknown(Exception):
    """The connection broke after the message was handed over (no answer came back): it
    may have gone out. Sending it again could send it twice, so the outbox records it as
    unconfirmed instead of retrying."""


@contextmanager
def on_hand_over(record: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """Within the block, a provider's ``handing_over()`` awaits ``record`` first (which may
    raise: then the message is not handed over)."""
    token = _HAND_OVER.set(record)
    try:
        yield
    finally:
        _HAND_OVER.reset(token)


async def handing_over() -> None:
    record = _HAND_OVER.get()
    if record is not None:
        await record()


async def trace_hand_over(event: str, info: dict[str, Any]) -> None:
    """httpx's ``trace`` extension: the request's body is about to leave."""
    if event.endswith("send_request_body.started"):
        await handing_over()
