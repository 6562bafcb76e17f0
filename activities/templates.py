"""Rendering the templates of rules without letting one of them stall the worker.

A plain template (``automation.templating.is_plain``: values, conditions, cheap filters)
renders where it is: its cost is bounded by its length and its values. Any other (a loop,
a call, a multiplied string...) renders in a separate process of a small pool, with at
most ``TEMPLATE_SECONDS`` of time and ``TEMPLATE_MEMORY_BYTES`` of memory: past either,
that process is stopped and replaced, and the rule fails, saying why, while the worker's
other orders go on.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import resource
import threading
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessExpired, ProcessPool

from automation import limits
from automation.templating import is_plain, render

SANDBOX_PROCESSES = 2


def _limit_memory(most: int) -> None:
    """In each sandbox process: past this much memory an allocation fails (MemoryError)."""
    resource.setrlimit(resource.RLIMIT_AS, (most, most))


def _render_in_sandbox(text: str, values: Mapping[str, Any], html: bool, most: int) -> str:
    try:
        return render(text, values, html, most)
    except MemoryError:
        raise ValueError(f"template used more than {limits.TEMPLATE_MEMORY_BYTES // limits.MiB} MiB") from None


class _Sandbox:
    """The pool of sandbox processes, started when a template first needs it."""

    def __init__(self) -> None:
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def pool(self) -> ProcessPool:
        with self._lock:
            if self._pool is None or not self._pool.active:
                self._pool = ProcessPool(
                    max_workers=SANDBOX_PROCESSES,
                    initializer=_limit_memory,
                    initargs=(limits.TEMPLATE_MEMORY_BYTES,),
                    # spawned, not forked from a worker that runs threads of its own
                    context=multiprocessing.get_context("spawn"),
                )
            return self._pool

    def stop(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.stop()  # type: ignore[no-untyped-call]
                self._pool.join()
                self._pool = None


_SANDBOX = _Sandbox()
atexit.register(_SANDBOX.stop)


async def render_template(
    text: str, values: Mapping[str, Any], html: bool = False, most: int = limits.TEMPLATE_OUTPUT_CHARS
) -> str:
    """``text`` rendered with ``values``; a ValueError says why it cannot be (its syntax or
    values, too much output, time or memory)."""
    if is_plain(text):
        return render(text, values, html, most)
    future = _SANDBOX.pool().schedule(
        _render_in_sandbox, args=(text, dict(values), html, most), timeout=limits.TEMPLATE_SECONDS
    )
    try:
        return await asyncio.wrap_future(future)
    except FutureTimeout:
        raise ValueError(f"template took more than {limits.TEMPLATE_SECONDS:g} s to render") from None
    except ProcessExpired:
        raise ValueError("template rendering stopped its process (out of memory?)") from None
    except asyncio.CancelledError:
        future.cancel()  # type: ignore[no-untyped-call]  # the rule was cancelled: so is its rendering
        raise
