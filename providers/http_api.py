"""One POST to a provider's HTTP API, with the error semantics every provider shares:

* 2xx: taken; the JSON answer (empty if it sent none);
* 429, 5xx, other non-4xx statuses, no connection: not taken, transient, retried by the
  activity's retry policy (after ``Retry-After`` when the provider says how long);
* any other 4xx (invalid number, bad credentials...): a permanent refusal, not retried;
* the request went out but no answer came back (time-out, connection lost): it may have
  been taken, ``DeliveryUnknown``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from providers.delivery import DeliveryUnknown, trace_hand_over

UNAVAILABLE = "ProviderUnavailable"
REFUSED = "ProviderRefused"
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors before the request left: nothing was taken."""
MAX_RETRY_AFTER = timedelta(hours=1)
"""A provider asking for more than this is waited for this long, then asked again."""


def refused(message: str) -> ApplicationError:
    """The provider said no for good (or cannot be used as configured): retrying would not help."""
    return ApplicationError(message, type=REFUSED, non_retryable=True)


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """``Retry-After`` as a delay: seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(when - (now or datetime.now(UTC)), timedelta(0)), MAX_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    """The provider's own words: Twilio's ``code`` and ``message``, else the body's start."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message") or body.get("error") or body.get("detail")
        if code is not None and message:
            return f"error {code}: {message}"
        if message:
            return str(message)
    return response.text[:200].strip() or response.reason_phrase


async def post(client: httpx.AsyncClient, what: str, url: str, **request: Any) -> dict[str, Any]:
    """POSTs ``request`` (httpx's ``data``, ``json``, ``auth``, ``headers``) to ``url``;
    ``what`` names the provider in error messages."""
    try:
        response = await client.post(url, **request, extensions={"trace": trace_hand_over})
    except NOT_SENT as err:
        raise ApplicationError(f"{what} unreachable: {type(err).__name__}: {err}", type=UNAVAILABLE) from err
    except httpx.HTTPError as err:  # the request went out: a lost or unreadable answer
        raise DeliveryUnknown(f"{what} did not answer: {type(err).__name__}: {err}") from err
    status = response.status_code
    if 400 <= status < 500 and status != 429:
        raise refused(f"{what} refused ({status}) {_detail(response)}")
    if not 200 <= status < 300:
        raise ApplicationError(
            f"{what} unavailable ({status}) {_detail(response)}",
            type=UNAVAILABLE,
            next_retry_delay=retry_after(response.headers.get("Retry-After")),
        )
    try:
        answer: Any = response.json()
    except ValueError:
        answer = None
    return answer if isinstance(answer, dict) else {}  # taken, even if we cannot read its id
