"""Limits on the public routes (webhooks, tracking links), which anyone may call: requests a
minute from one source and to one target, past which the answer is a 429 with Retry-After,
given before the store or Temporal is asked anything. A flood of forged calls then costs
a dictionary lookup each, and cannot crowd out real events."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """A token bucket per key: up to ``per_minute`` requests at once, refilled at
    ``per_minute`` a minute. It remembers ``keys`` keys at most, forgetting the least
    recently seen first, so that a flood of new keys cannot use up memory."""

    def __init__(self, per_minute: int, keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self._keys, self._clock = per_minute, keys, clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> int | None:
        """None if a request for ``key`` may go now (and counts it), else the seconds to wait."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.per_minute), now)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * self.per_minute / 60)
        bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > self._keys:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            return max(1, math.ceil((1 - bucket.tokens) * 60 / self.per_minute))
        bucket.tokens -= 1
        return None


@dataclass
class PublicLimits:
    """The two limits of the public routes: by source (the caller's address), checked first,
    and by target (an order), checked once the request names one. A request refused by
    its source does not count against its target: a flood from one source leaves the
    target's share to the others."""

    by_source: RateLimit
    by_target: RateLimit

    @classmethod
    def per_minute(cls, source: int, target: int) -> PublicLimits:
        return cls(RateLimit(source), RateLimit(target))
