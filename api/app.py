"""The HTTP API (FastAPI; its OpenAPI schema is at ``/openapi.json``, docs at ``/docs``).

Bad input gets a 4xx that says what is wrong and where; an accepted event is handed to
the order's workflow before the answer is sent, so it is never lost.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

import tracking
from api.body_limit import BodyLimit
from api.signatures import check
from automation import limits
from automation.errors import describe_errors
from automation.events import Event, InvalidEvent, Source
from automation.order import NewOrder
from automation.state import EventOutcome, OrderView, ResendOutcome
from config import Settings
from order_client import OrderClient, OrderSummary, Overloaded, parse_event
from store.database import session
from store.directory import customers_by_contact
from store.messages import list_messages
from store.orders import open_orders, read_timeline, register_order
from store.tables import Document, Order, PipelineRecord

OrderIdPath = Annotated[
    str, Path(max_length=limits.ORDER_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", description="the order id")
]
CustomerIdPath = Annotated[str, Path(min_length=1, max_length=limits.ID_CHARS, description="the customer id")]
TokenPath = Annotated[str, Path(max_length=4 * limits.URL_CHARS)]

PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


class EventIn(BaseModel):
    """An event as services post it; ``event_id`` defaults to the Idempotency-Key header."""

    model_config = ConfigDict(extra="forbid")
    event_id: str | None = Field(default=None, max_length=200)
    type: str = Field(description="an event type of the catalog, e.g. payment")
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: AwareDatetime | None = Field(default=None, description="default: when received")


class Accepted(BaseModel):
    event_id: str
    accepted: bool = True


class MessageItem(BaseModel):
    run_key: str = Field(description="the rule run that sent it; resend it by this")
    order_id: str
    channel: str
    recipient: str
    subject: str
    status: str
    note: str
    created_at: datetime
    sent_at: datetime | None


class ResendDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100, description="who decides to resend it")


class TimelineItem(BaseModel):
    seq: int
    at: datetime
    kind: str
    stage: str
    message: str
    data: dict[str, Any]


def create_app(orders: OrderClient, engine: AsyncEngine, settings: Settings) -> FastAPI:
    app = FastAPI(title="Order automation", version="0.1.0", description=__doc__)
    app.add_middleware(BodyLimit, most=limits.REQUEST_BODY_BYTES)
    _install_error_handlers(app)

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # A NUL reaches no store or query (PostgreSQL refuses it in text).
        where = (request.scope["path"], unquote_plus(request.scope["query_string"].decode("latin-1")))
        if any("\x00" in part for part in where):
            errors = ["url: must not contain NUL characters"]
            return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=400)
        return await call_next(request)

    @app.post("/orders", status_code=201, response_model=dict[str, str])
    async def create_order(order: NewOrder) -> dict[str, str] | JSONResponse:
        """Starts the order; creating one that exists changes nothing. The store knows the
        order (and its customer) before the answer: an event for its customer reaches it."""
        async with session(engine) as db:
            pipeline = await db.get(PipelineRecord, order.pipeline_id)
            if pipeline is None:
                problem = f"pipeline_id: no pipeline {order.pipeline_id!r}; load it first"
                return JSONResponse({"detail": "invalid request", "errors": [problem]}, status_code=422)
            await register_order(db, order, pipeline.definition["stages"][0]["id"])
            await db.commit()
        handle = await orders.create_order(order)
        return {"order_id": order.order_id, "workflow_id": handle.id}

    @app.post("/orders/{order_id}/events", status_code=202, response_model=EventOutcome | Accepted)
    async def send_event(
        order_id: OrderIdPath,
        event: EventIn,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
        wait: Annotated[bool, Query(description="wait for the outcome (the order's new stage)")] = False,
    ) -> EventOutcome | Accepted | JSONResponse:
        """Sends an event. A retried request with the same Idempotency-Key (or event_id) is
        applied once. With ``wait=true`` the answer is the outcome (200), else 202."""
        parsed = _parsed(event, idempotency_key)
        if not wait:
            await orders.send_event(order_id, parsed)
            return Accepted(event_id=parsed.event_id)
        outcome = await orders.apply_event(order_id, parsed)
        return JSONResponse(outcome.model_dump(mode="json"), status_code=200)

    @app.post("/customers/{customer_id}/events", status_code=202, response_model=dict[str, Any])
    async def send_customer_event(
        customer_id: CustomerIdPath,
        event: EventIn,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        """An event about a customer (e-mail, call, chat, form, visit...): it reaches every
        open order of the customer (from the store, which knows an order before it is
        reported created). Answers which."""
        parsed = _parsed(event, idempotency_key)
        async with session(engine) as db:
            order_ids = await open_orders(db, [customer_id])
        reached = await orders.send_to_orders(order_ids, parsed)
        return {"event_id": parsed.event_id, "orders": reached}

    @app.post("/contacts/events", status_code=202, response_model=dict[str, Any])
    async def send_contact_event(
        event: EventIn,
        email: Annotated[str | None, Query(max_length=320, description="the sender's e-mail address")] = None,
        phone: Annotated[str | None, Query(max_length=40, description="the caller's phone number")] = None,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any] | JSONResponse:
        """An event from an e-mail address or a phone number (a mail server, telephony): it
        reaches every open order of each customer with that address or number in their card."""
        if (email is None) == (phone is None):
            problem = "query: give exactly one of email or phone"
            return JSONResponse({"detail": "invalid request", "errors": [problem]}, status_code=422)
        parsed = _parsed(event, idempotency_key)
        if phone is not None and phone.startswith(" "):
            phone = "+" + phone.lstrip()  # an unencoded + in the query string arrives as a space
        async with session(engine) as db:
            customers = await customers_by_contact(db, email=email, phone=phone)
            order_ids = await open_orders(db, customers)
        reached = await orders.send_to_orders(order_ids, parsed)
        return {"event_id": parsed.event_id, "customers": customers, "orders": reached}

    @app.get("/orders/{order_id}", response_model=OrderView)
    async def order_state(order_id: OrderIdPath) -> JSONResponse:
        """The running order: stage, variables, rules of its stage, latest timeline. Signed
        links (a document's, a tracked link) are not shown: they are the customer's."""
        view = (await orders.state(order_id)).model_dump(mode="json")
        return JSONResponse(tracking.hidden_links(view, settings.public_url))

    @app.get("/orders/{order_id}/timeline", response_model=list[TimelineItem])
    async def order_timeline(order_id: OrderIdPath) -> JSONResponse:
        """The whole timeline, from the store (signed links not shown)."""
        async with session(engine) as db:
            rows = await read_timeline(db, order_id)
        if not rows:
            raise HTTPException(404, f"no order {order_id!r}")
        items = [TimelineItem.model_validate(row, from_attributes=True).model_dump(mode="json") for row in rows]
        return JSONResponse(tracking.hidden_links(items, settings.public_url))

    @app.get("/orders", response_model=list[OrderSummary])
    async def list_orders(
        stage: Annotated[str | None, Query(max_length=limits.SLUG_CHARS)] = None,
        pipeline: Annotated[str | None, Query(max_length=limits.SLUG_CHARS)] = None,
    ) -> list[OrderSummary]:
        """Running orders by stage or pipeline (Temporal's visibility)."""
        return await orders.list_orders(stage=stage, pipeline_id=pipeline)

    @app.get("/messages", response_model=list[MessageItem])
    async def messages(
        status: Annotated[str | None, Query(max_length=20, description="e.g. unconfirmed")] = None,
        order_id: Annotated[str | None, Query(max_length=limits.ORDER_ID_CHARS)] = None,
    ) -> list[MessageItem]:
        """The messages rules sent (the outbox), oldest first: ``status=unconfirmed`` lists
        those that may or may not have gone out, for an operator to resend or not."""
        async with session(engine) as db:
            rows = await list_messages(db, status=status, order_id=order_id)
        return [MessageItem.model_validate(row, from_attributes=True) for row in rows]

    @app.post("/messages/{run_key:path}/resend", response_model=ResendOutcome)
    async def resend(run_key: Annotated[str, Path(max_length=400)], decision: ResendDecision) -> ResendOutcome:
        """Resends an unconfirmed message, on an operator's decision (recorded in the order's
        timeline, with ``by``). The engine never resends one by itself: it may have gone out."""
        return await orders.resend_message(run_key, decision.by)

    @app.post("/webhooks/{pipeline_id}")
    async def webhook(
        pipeline_id: str,
        request: Request,
        target: str | None = None,
        code: str | None = None,
        x_webhook_timestamp: Annotated[str | None, Header()] = None,
        x_webhook_signature: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """The Webhook trigger: ``?target=ORDER_<id>&code=<trigger code>``, signed (see
        ``api/signatures.py``). Answers ``{"result": true}`` or ``{"result": false, "error": ...}``."""
        body = await request.body()
        if len(pipeline_id) > limits.SLUG_CHARS:
            return _webhook_error(404, "unknown pipeline")
        async with session(engine) as db:
            pipeline = await db.get(PipelineRecord, pipeline_id)
        if pipeline is None:
            return _webhook_error(404, "unknown pipeline")
        signed = (target or "", code or "", body)
        refusal = check(pipeline.webhook_secret, x_webhook_timestamp, x_webhook_signature, *signed, time.time())
        if refusal is not None:
            return _webhook_error(401, "access denied", refusal)
        if not target:
            return _webhook_error(400, "target not set")
        if not target.startswith("ORDER_") or not 0 < len(target) - len("ORDER_") <= limits.ORDER_ID_CHARS:
            return _webhook_error(400, "bad target format", "expected ORDER_<order id>")
        order_id = target.removeprefix("ORDER_")
        async with session(engine) as db:
            order = await db.get(Order, order_id)
        if order is None or order.pipeline_id != pipeline_id:
            return _webhook_error(404, "target not found")
        payload = _json_object(body)
        if not code or payload is None:
            return _webhook_error(400, "code not set" if not code else "the body must be empty or a JSON object")
        # The signature covers timestamp, target, code and body: a retried call is the same
        # event (applied once), any other call another one.
        digest = hashlib.sha256(f"{pipeline_id}|{x_webhook_signature}".encode()).hexdigest()[:32]
        try:
            await _fire(orders, "webhook", order_id, f"webhook-{digest}", {"code": code, "payload": payload})
        except InvalidEvent as err:
            return _webhook_error(400, "bad payload", "; ".join(err.problems))
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return _webhook_error(404, "target not found", "the order has ended")
        return JSONResponse({"result": True})

    @app.get("/t/open/{token}", include_in_schema=False)
    async def opened(token: TokenPath) -> Response:
        found = tracking.verify(settings.tracking_secret, token)
        if found is not None and found.kind == "open":
            await _fire(orders, "email_viewed", found.order_id, f"viewed-{found.ref}", {"message_id": found.ref})
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    @app.get("/t/click/{token}", include_in_schema=False)
    async def clicked(token: TokenPath) -> Response:
        found = tracking.verify(settings.tracking_secret, token)
        if found is None or found.kind != "click" or not found.url:
            raise HTTPException(404, "unknown link")
        link = hashlib.sha256(f"{found.ref}|{found.url}".encode()).hexdigest()[:24]
        data = {"message_id": found.ref, "url": found.url}
        await _fire(orders, "email_link_clicked", found.order_id, f"clicked-{link}", data)
        return RedirectResponse(found.url, status_code=302)

    @app.get("/t/doc/{token}", include_in_schema=False)
    async def document_opened(token: TokenPath) -> Response:
        """The document itself, behind its signed link: opening it fires Document opened."""
        found = tracking.verify(settings.tracking_secret, token)
        if found is None or found.kind != "document" or not found.template_id:
            raise HTTPException(404, "unknown document")
        async with session(engine) as db:
            document = await db.get(Document, found.ref)
        if document is None:  # deleted with its order
            raise HTTPException(404, "unknown document")
        data = {"template_id": found.template_id, "document_id": found.ref}
        await _fire(orders, "document_opened", found.order_id, f"opened-{found.ref}", data)
        # Templates are the admin's HTML; values in them are escaped, and no script runs.
        headers = {"Content-Security-Policy": "script-src 'none'; object-src 'none'", "Cache-Control": "no-store"}
        return Response(document.html, media_type="text/html", headers=headers)

    return app


def _parsed(event: EventIn, idempotency_key: str | None) -> Event:
    """A service's event: what only the engine raises, or only a signed URL sends, is refused."""
    event_id = event.event_id or idempotency_key or f"api-{uuid.uuid4()}"
    occurred_at = event.occurred_at or datetime.now(UTC)
    raw = {**event.model_dump(exclude_none=True), "event_id": event_id, "occurred_at": occurred_at}
    return parse_event(raw, "service")


_SIGNED_BY: dict[str, Source] = {
    "webhook": "webhook", "email_viewed": "tracking", "email_link_clicked": "tracking", "document_opened": "tracking",
}  # fmt: skip
"""The events the signed paths of the API send: the webhook URL and the tracking links."""


async def _fire(orders: OrderClient, type: str, order_id: str, event_id: str, data: dict[str, Any]) -> None:
    event = {"event_id": event_id, "type": type, "data": data, "occurred_at": datetime.now(UTC)}
    await orders.send_event(order_id, event, _SIGNED_BY[type])


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None
    return value if isinstance(value, dict) else None


def _webhook_error(status: int, error: str, reason: str | None = None) -> JSONResponse:
    content: dict[str, Any] = {"result": False, "error": error}
    if reason:
        content["reason"] = reason
    return JSONResponse(content, status_code=status)


RETRY_SOON, RETRY_LATER = 1, 5
"""Seconds in the Retry-After of an overload (429) and of an outage (503)."""


def _install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, err: Exception) -> JSONResponse:
        status, detail, errors, retry_after = _refusal(err, request.path_params.get("order_id", ""))
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return JSONResponse({"detail": detail, "errors": errors}, status_code=status, headers=headers)

    for kind in (
        RequestValidationError, InvalidEvent, WorkflowUpdateFailedError, WorkflowQueryFailedError, Overloaded,
        WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowAlreadyStartedError, RPCError, OperationalError,
    ):  # fmt: skip
        app.add_exception_handler(kind, handle)


def _refusal(err: Exception, order_id: str) -> tuple[int, str, list[str], int | None]:
    """(status, detail, one line per problem, Retry-After seconds or None) for an error."""
    match err:
        case RequestValidationError():
            return 422, "invalid request", describe_errors(err.errors()), None
        case InvalidEvent():
            return 422, "invalid event", err.problems, None
        case WorkflowUpdateFailedError(cause=ApplicationError(type="OrderDeleted") as cause):
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
