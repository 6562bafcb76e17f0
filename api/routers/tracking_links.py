"""The signed tracking links of sent e-mails (open pixel, clicks) and of documents: each
fires its event once per message, link or document."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import RedirectResponse

from api.dependencies import AppSettings, Limits, Orders, Store, source_of
from api.events_in import fire
from api.rate_limit import PublicLimits
from automation import limits, tracking
from store.database import session
from store.tables import Document

router = APIRouter(include_in_schema=False)

TokenPath = Annotated[str, Path(max_length=4 * limits.URL_CHARS)]
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def _verified(request: Request, throttle: PublicLimits, secret: str, token: str) -> tracking.Tracked | None:
    """The link's signed content (None if forged), unless its caller or its order is past
    their limit: then a 429."""
    if (wait := throttle.by_source.take(source_of(request))) is not None:
        raise HTTPException(429, f"too many requests; retry in {wait} s", headers={"Retry-After": str(wait)})
    found = tracking.verify(secret, token)
    if found is not None and (wait := throttle.by_target.take(found.order_id)) is not None:
        raise HTTPException(429, f"too many requests; retry in {wait} s", headers={"Retry-After": str(wait)})
    return found


@router.get("/t/open/{token}")
async def opened(
    request: Request, token: TokenPath, orders: Orders, throttle: Limits, settings: AppSettings
) -> Response:
    found = _verified(request, throttle, settings.tracking_secret, token)
    if found is not None and found.kind == "open":
        await fire(orders, "email_viewed", found.order_id, f"viewed-{found.ref}", {"message_id": found.ref})
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/click/{token}")
async def clicked(
    request: Request, token: TokenPath, orders: Orders, throttle: Limits, settings: AppSettings
) -> Response:
    found = _verified(request, throttle, settings.tracking_secret, token)
    if found is None or found.kind != "click" or not found.url:
        raise HTTPException(404, "unknown link")
    link = hashlib.sha256(f"{found.ref}|{found.url}".encode()).hexdigest()[:24]
    data = {"message_id": found.ref, "url": found.url}
    await fire(orders, "email_link_clicked", found.order_id, f"clicked-{link}", data)
    return RedirectResponse(found.url, status_code=302)


@router.get("/t/doc/{token}")
async def document_opened(
    request: Request, token: TokenPath, orders: Orders, store: Store, throttle: Limits, settings: AppSettings
) -> Response:
    """The document itself, behind its signed link: opening it fires Document opened."""
    found = _verified(request, throttle, settings.tracking_secret, token)
    if found is None or found.kind != "document" or not found.template_id:
        raise HTTPException(404, "unknown document")
    async with session(store) as db:
        document = await db.get(Document, found.ref)
    if document is None:  # deleted with its order
        raise HTTPException(404, "unknown document")
    data = {"template_id": found.template_id, "document_id": found.ref}
    await fire(orders, "document_opened", found.order_id, f"opened-{found.ref}", data)
    # Templates are the admin's HTML; values in them are escaped, and no script runs.
    headers = {"Content-Security-Policy": "script-src 'none'; object-src 'none'", "Cache-Control": "no-store"}
    return Response(document.html, media_type="text/html", headers=headers)
