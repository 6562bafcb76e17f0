from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from automation.delays import Delay

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "after"),
    [("45s", timedelta(seconds=45)), ("30m", timedelta(minutes=30)), ("1d12h", timedelta(days=1, hours=12)),
     ("2w", timedelta(weeks=2)), ("PT2H", timedelta(hours=2)), (90, timedelta(seconds=90))],
)  # fmt: skip
def test_durations(written: str | int, after: timedelta) -> None:
    assert Delay.model_validate({"after": written}).due_at(START, {}) == START + after


def test_at_a_moment_and_relative_to_a_date_field() -> None:
    assert Delay.model_validate({"at": "2026-12-24T18:00:00Z"}).due_at(START, {}) == datetime(
        2026, 12, 24, 18, tzinfo=UTC
    )
    before = Delay.model_validate({"field": "order.delivery_date", "offset": "-1d"})
    values = {"order": {"delivery_date": "2026-11-20T09:00:00+00:00"}}
    assert before.due_at(START, values) == datetime(2026, 11, 19, 9, tzinfo=UTC)
    assert before.due_at(START, {"order": {}}) is None


@pytest.mark.parametrize("bad", [{}, {"after": "-1h"}, {"after": "1h", "offset": "1h"}, {"at": "2026-01-01T00:00:00"}])
def test_bad_delays_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Delay.model_validate(bad)


@pytest.mark.parametrize(
    ("written", "due"),
    [("18:30", datetime(2026, 11, 1, 18, 30, tzinfo=UTC)),  # later today
     ("09:00", datetime(2026, 11, 2, 9, tzinfo=UTC)),  # passed today: tomorrow
     ("12:00", START),  # now: at once
     ("13:00+02:00", datetime(2026, 11, 2, 11, tzinfo=UTC))],  # 11:00 UTC has passed today
)  # fmt: skip
def test_at_the_next_time_of_day(written: str, due: datetime) -> None:
    assert Delay.model_validate({"time_of_day": written}).due_at(START, {}) == due
