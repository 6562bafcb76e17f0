"""The Webhook trigger: ``POST /webhooks/{pipeline_id}?target=ORDER_<id>&code=<trigger code>``,
signed with the pipeline's secret (``api/signatures.py``)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import Limits, Orders, Store, source_of
from api.events_in import fire
from api.signatures import check
from automation import limits
from automation.events import InvalidEvent
from store.database import session
from store.tables import Order, PipelineRecord

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks/{pipeline_id}")
async def webhook(
    pipeline_id: str,
    request: Request,
    orders: Orders,
    store: Store,
    throttle: Limits,
    target: str | None = None,
    code: str | None = None,
    x_webhook_timestamp: Annotated[str | None, Header()] = None,
    x_webhook_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Answers ``{"result": true}`` or ``{"result": false, "error": ...}``."""
    if (wait := throttle.by_source.take(source_of(request))) is not None:
        return _too_many(wait)
    body = await request.body()
    if len(pipeline_id) > limits.SLUG_CHARS:
        return _error(404, "unknown pipeline")
    async with session(store) as db:
        pipeline = await db.get(PipelineRecord, pipeline_id)
    if pipeline is None:
        return _error(404, "unknown pipeline")
    signed = (target or "", code or "", body)
    refusal = check(pipeline.webhook_secret, x_webhook_timestamp, x_webhook_signature, *signed, time.time())
    if refusal is not None:
        return _error(401, "access denied", refusal)
    if (wait := throttle.by_target.take(f"{pipeline_id}|{target}")) is not None:
        return _too_many(wait)
    if not target:
        return _error(400, "target not set")
    if not target.startswith("ORDER_") or not 0 < len(target) - len("ORDER_") <= limits.ORDER_ID_CHARS:
        return _error(400, "bad target format", "expected ORDER_<order id>")
    order_id = target.removeprefix("ORDER_")
    async with session(store) as db:
        order = await db.get(Order, order_id)
    if order is None or order.pipeline_id != pipeline_id:
        return _error(404, "target not found")
    payload = _json_object(body)
    if not code or payload is None:
        return _error(400, "code not set" if not code else "the body must be empty or a JSON object")
    # The signature covers timestamp, target, code and body: a retried call is the same
    # event (applied once), any other call another one.
    digest = hashlib.sha256(f"{pipeline_id}|{x_webhook_signature}".encode()).hexdigest()[:32]
    try:
        await fire(orders, "webhook", order_id, f"webhook-{digest}", {"code": code, "payload": payload})
    except InvalidEvent as err:
        return _error(400, "bad payload", "; ".join(err.problems))
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return _error(404, "target not found", "the order has ended")
    return JSONResponse({"result": True})


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None
    return value if isinstance(value, dict) else None


def _error(status: int, error: str, reason: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    content: dict[str, Any] = {"result": False, "error": error}
    if reason:
        content["reason"] = reason
    return JSONResponse(content, status_code=status, headers=headers)


def _too_many(wait: int) -> JSONResponse:
    return _error(429, "too many requests", f"retry in {wait} s", headers={"Retry-After": str(wait)})
