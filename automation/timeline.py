"""The order's timeline as its workflow keeps it: every entry goes to the store, and the
workflow holds only what its ``state`` query shows and what the store does not have yet,
so that the state it hands over at continue-as-new stays small whatever the order gets.

* a message is at most ``TIMELINE_MESSAGE_CHARS`` (longer ones are cut, saying so);
* once stored, the workflow keeps the latest ``TIMELINE_KEPT`` entries, and of an entry's
  data only what is small (the store has it all);
* the entries not stored yet weigh at most about ``UNSTORED_TIMELINE_BYTES``: past that the
  order takes no new event until the store has caught up (``backlogged``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from automation import limits
from automation.models import cut, json_size
from automation.state import OrderState, TimelineEntry, TimelineKind

_ENTRY_OVERHEAD = 120
"""Bytes of JSON an entry weighs besides its message and data (seq, time, kind, stage)."""


def _kept_data(data: dict[str, Any]) -> dict[str, Any]:
    """An entry's data as the workflow keeps it once stored: whole if small, else its event's id and type."""
    size = json_size(data)
    if size <= limits.TIMELINE_KEPT_DATA_BYTES:
        return data
    kept: dict[str, Any] = {"omitted": f"{size:,} bytes of data, in the store"}
    event = data.get("event")
    if isinstance(event, dict):
        kept["event"] = {key: event.get(key) for key in ("event_id", "type")}
    return kept


def _weight(entry: TimelineEntry) -> int:
    return _ENTRY_OVERHEAD + len(entry.message.encode()) + (json_size(entry.data) if entry.data else 0)


class Timeline:
    """Writes the order's timeline into its state; the workflow stores it in batches."""

    def __init__(self, state: OrderState) -> None:
        self._state = state
        self._unstored_bytes = sum(_weight(entry) for entry in self.unstored())

    def add(self, at: datetime, kind: TimelineKind, message: str, data: dict[str, Any]) -> TimelineEntry:
        state = self._state
        entry = TimelineEntry(
            seq=state.next_seq,
            at=at,
            kind=kind,
            stage=state.current.stage,
            message=cut(message, limits.TIMELINE_MESSAGE_CHARS),
            data=data,
        )
        state.timeline.append(entry)
        state.next_seq += 1
        self._unstored_bytes += _weight(entry)
        return entry

    def unstored(self) -> list[TimelineEntry]:
        return [entry for entry in self._state.timeline if entry.seq > self._state.flushed_seq]

    @property
    def has_unstored(self) -> bool:
        return self._state.next_seq - 1 > self._state.flushed_seq

    @property
    def last_seq(self) -> int:
        return self._state.next_seq - 1

    @property
    def backlogged(self) -> bool:
        """So much is not stored yet that the order should wait for the store."""
        return self._unstored_bytes >= limits.UNSTORED_TIMELINE_BYTES

    def stored(self, up_to: int) -> None:
        """Entries up to ``up_to`` are in the store: keep the latest few, their data trimmed."""
        state = self._state
        before, state.flushed_seq = state.flushed_seq, up_to
        kept = []
        for entry in state.timeline:
            if entry.seq > up_to:
                kept.append(entry)
            elif entry.seq <= up_to - limits.TIMELINE_KEPT:
                continue  # in the store only
            elif entry.seq <= before or not entry.data:  # trimmed as it was stored, or nothing to trim
                kept.append(entry)
            else:
                kept.append(entry.model_copy(update={"data": _kept_data(entry.data)}))
        state.timeline = kept
        self._unstored_bytes = sum(_weight(entry) for entry in self.unstored())
