"""The signed tracking links of sent e-mails (open pixel, clicks) and of documents: each
fires its event once per message, link or document."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from fastapi.responses import RedirectResponse

from api.dependencies import AppSettings, Orders, Store
from api.events_in import fire
from automation import limits, tracking
from store.database import session
from store.tables import Document

router = APIRouter(include_in_schema=False)

TokenPath = Annotated[str, Path(max_length=4 * limits.URL_CHARS)]
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@router.get("/t/open/{token}")
async def opened(token: TokenPath, orders: Orders, settings: AppSettings) -> Response:
    found = tracking.verify(settings.tracking_secret, token)
    if found is not None and found.kind == "open":
        await fire(orders, "email_viewed", found.order_id, f"viewed-{found.ref}", {"message_id": found.ref})
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/click/{token}")
async def clicked(token: TokenPath, orders: Orders, settings: AppSettings) -> Response:
    found = tracking.verify(settings.tracking_secret, token)
    if found is None or found.kind != "click" or not found.url:
        raise HTTPException(404, "unknown link")
    link = hashlib.sha256(f"{found.ref}|{found.url}".encode()).hexdigest()[:24]
    data = {"message_id": found.ref, "url": found.url}
    await fire(orders, "email_link_clicked", found.order_id, f"clicked-{link}", data)
    return RedirectResponse(found.url, status_code=302)


@router.get("/t/doc/{token}")
async def document_opened(token: TokenPath, orders: Orders, store: Store, settings: AppSettings) -> Response:
    """The document itself, behind its signed link: opening it fires Document opened."""
    found = tracking.verify(settings.tracking_secret, token)
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
