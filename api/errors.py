"""How the API answers what goes wrong: one JSON shape (``detail``, ``errors``: one line per
problem), the status that says whose fault it is, and Retry-After where retrying helps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote_plus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from automation.errors import describe_errors
from automation.events import InvalidEvent
from order_client import Overloaded

RETRY_SOON, RETRY_LATER = 1, 5
"""Seconds in the Retry-After of an overload (429) and of an outage (503)."""


def invalid_request(*problems: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"detail": "invalid request", "errors": list(problems)}, status_code=status)


class InvalidRequest(Exception):
    """Raised by a route: a 422 as ``invalid_request`` answers it, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, err: Exception) -> JSONResponse:
        status, detail, errors, retry_after = _refusal(err, request.path_params.get("order_id", ""))
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return JSONResponse({"detail": detail, "errors": errors}, status_code=status, headers=headers)

    for kind in (
        RequestValidationError, InvalidRequest, InvalidEvent, WorkflowUpdateFailedError, WorkflowQueryFailedError,
        Overloaded, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowAlreadyStartedError, RPCError, OperationalError,
    ):  # fmt: skip
        app.add_exception_handler(kind, handle)


async def refuse_nul(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A NUL in the path or query reaches no store or query (PostgreSQL refuses it in text)."""
    where = (request.scope["path"], unquote_plus(request.scope["query_string"].decode("latin-1")))
    if any("\x00" in part for part in where):
        return invalid_request("url: must not contain NUL characters", status=400)
    return await call_next(request)


def _refusal(err: Exception, order_id: str) -> tuple[int, str, list[str], int | None]:
    """(status, detail, one line per problem, Retry-After seconds or None) for an error."""
    match err:
        case RequestValidationError():
            return 422, "invalid request", describe_errors(err.errors()), None
        case InvalidRequest():
            return 422, "invalid request", err.problems, None
        case InvalidEvent():
            return 422, "invalid event", err.problems, None
        case WorkflowUpdateFailedError(cause=ApplicationError(type="OrderDeleted" | "NotATestOrder") as cause):
            return 409, f"order {order_id!r}: {cause.message}", [], None
        case WorkflowUpdateFailedError(cause=ApplicationError() as cause):
            return 422, cause.message, [str(detail) for detail in cause.details], None
        case WorkflowUpdateFailedError():
            return 422, str(err.cause), [], None
        case WorkflowQueryFailedError():  # the order is still starting, or did not start (saying why)
            return 409, str(err), [], RETRY_SOON if "still starting" in str(err) else None
        case Overloaded():
            return 429, f"{err}; retry in a moment", [], RETRY_SOON
        case WorkflowUpdateRPCTimeoutOrCancelledError():
            detail = "the order did not answer in time (is a worker running?); retry with the same Idempotency-Key"
            return 503, detail, [], RETRY_LATER
        case WorkflowAlreadyStartedError():
            return 409, f"order {order_id!r} was deleted: it takes no more events", [], None
        case RPCError(status=RPCStatusCode.NOT_FOUND):
            return 404, f"no order {order_id!r}", [], None
        case RPCError(status=RPCStatusCode.RESOURCE_EXHAUSTED):
            return 429, f"Temporal is busy ({err.message}); retry in a moment", [], RETRY_SOON
        case RPCError(status=RPCStatusCode.UNAVAILABLE | RPCStatusCode.DEADLINE_EXCEEDED):
            return 503, "Temporal is unavailable; retry", [], RETRY_LATER
        case RPCError():
            return 400, err.message, [], None
        case OperationalError():  # a connection refused or lost, a lock not granted in time
            return 503, "the store is unreachable or busy; retry", [], RETRY_LATER
    raise err
