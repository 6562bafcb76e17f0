"""When a delayed rule becomes due: after a duration, at a moment, at the next given time of
day, or relative to a date field.

Durations are written ``45s``, ``30m``, ``2h``, ``3d``, ``1w`` or combined (``1d12h``),
with a leading ``-`` for "before"; ISO 8601 (``PT2H``) works too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, ValidationInfo, model_validator

from automation import limits
from automation.conditions import as_datetime, resolve
from automation.models import StrictFromOutside, Within, is_inside

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(-)?((?:\d{1,12}[wdhms])+)$")
_LONGEST = timedelta(days=limits.DURATION_DAYS)


def parse_duration(value: Any) -> Any:
    """``"1d12h"`` → ``timedelta(days=1, hours=12)``; anything else is left to pydantic."""
    if not isinstance(value, str):
        return value
    match = _DURATION.match(value.strip().replace(" ", ""))
    if match is None:
        return value
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in re.findall(r"(\d+)([wdhms])", match.group(2)))
    if seconds > _LONGEST.total_seconds():  # checked before timedelta, which overflows
        raise ValueError(f"at most {limits.DURATION_DAYS:,} days")
    return (-1 if match.group(1) else 1) * timedelta(seconds=seconds)


def duration_text(value: timedelta) -> str:
    """A duration as a pipeline file writes it: ``2d``, ``1d12h``, ``45m``, ``-1d``, ``0s``."""
    seconds = int(abs(value).total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return ("-" if value < timedelta(0) else "") + ("".join(parts) or "0s")


def _not_too_long(value: timedelta, info: ValidationInfo) -> timedelta:
    if not is_inside(info) and abs(value) > _LONGEST:
        raise ValueError(f"at most {limits.DURATION_DAYS:,} days")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_not_too_long)]


class Delay(StrictFromOutside):
    """Exactly one of ``after``, ``at``, ``time_of_day`` or ``field`` (with an optional ``offset``)."""

    after: Duration | None = Field(default=None, description="wait this long")
    at: AwareDatetime | None = Field(default=None, description="wait until this moment")
    time_of_day: time | None = Field(
        default=None, description="wait until this time of day comes next, e.g. 09:00 (UTC) or 09:00+02:00"
    )
    field: Annotated[str, Within(200)] | None = Field(
        default=None, description="a date value, e.g. order.delivery_date"
    )
    offset: Duration = Field(default=timedelta(0), description="added to field; negative = before")

    @model_validator(mode="after")
    def _one_anchor(self) -> Delay:
        anchors = [name for name in ("after", "at", "time_of_day", "field") if getattr(self, name) is not None]
        if len(anchors) != 1:
            raise ValueError("give exactly one of 'after', 'at', 'time_of_day' or 'field'")
        if self.after is not None and self.after < timedelta(0):
            raise ValueError("'after' must not be negative")
        if self.offset and self.field is None:
            raise ValueError("'offset' only applies with 'field'")
        return self

    def due_at(self, start: datetime, values: Mapping[str, Any]) -> datetime | None:
        """The moment this delay ends for something that became ready at ``start``.

        None when it is anchored on a field that holds no date (or one so far off that no
        moment follows it).
        """
        if self.after is not None:
            return start + self.after
        if self.at is not None:
            return self.at
        if self.time_of_day is not None:
            return _next_time_of_day(start, self.time_of_day)
        assert self.field is not None
        anchor = as_datetime(resolve(values, self.field))
        try:
            return None if anchor is None else anchor + self.offset
        except OverflowError:
            return None

    def __str__(self) -> str:
        if self.after is not None:
            return f"after {duration_text(self.after)}"
        if self.at is not None:
            return f"at {self.at.isoformat()}"
        if self.time_of_day is not None:
            return f"at the next {self.time_of_day.isoformat()}"
        return f"at {self.field}" + (f" offset {duration_text(self.offset)}" if self.offset else "")


def _next_time_of_day(start: datetime, moment: time) -> datetime:
    """The first moment at or after ``start`` whose time of day is ``moment`` (UTC if it has
    no offset of its own)."""
    zone = moment.tzinfo or UTC
    local = start.astimezone(zone)
    due = datetime.combine(local.date(), moment.replace(tzinfo=None), tzinfo=zone)
    return due if due >= local else due + timedelta(days=1)
