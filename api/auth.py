"""Who calls the API: every route but the signed ones (webhooks, tracking links) needs an
API key (``Authorization: Bearer oak_...``, made with ``orders keys create``) with the
route's scope; a key limited to pipelines reaches only their orders.

A missing, unknown or revoked key is a 401, a key without the scope or the pipeline a 403,
each saying why; either is answered before the request's body is used, so it changes
nothing. The key is found by the hash of its secret (``store/access.py``): how long that
takes says nothing about the key."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.codec_session import COOKIE, session_key
from api.dependencies import AppSettings, Store
from store.access import key_of
from store.database import session
from store.tables import Order
from store.tables_access import ApiKey

UNLIMITED_ONLY = {"payloads:decode"}
"""Scopes that a key limited to pipelines cannot use: payloads do not say their pipeline."""
PUBLIC = ("/webhooks/", "/t/", "/docs", "/redoc", "/openapi.json", "/codec/sign-in", "/catalog")
"""Routes anyone may call: the signed ones (which keep their own checks), the API's docs,
the codec server's sign-in page, and the catalog of rule and trigger types."""
NO_KEY = "an API key is needed: Authorization: Bearer <key> (made with `orders keys create`)"
EXPIRED = "the codec session has expired or is not valid: sign in again at /codec/sign-in"

bearer = HTTPBearer(
    auto_error=False, scheme_name="ApiKey",
    description="An API key, made with `orders keys create`: `Authorization: Bearer oak_...`",
)  # fmt: skip


@dataclass(frozen=True)
class Caller:
    key_id: str
    scopes: frozenset[str]
    pipelines: frozenset[str] | None
    """The pipelines whose orders it may act on; None: all."""

    @property
    def actor(self) -> str:
        """Who it is in the audit log and on what it stores."""
        return f"key:{self.key_id}"

    def may_use(self, pipeline_id: str | None) -> bool:
        return self.pipelines is None or pipeline_id in self.pipelines

    def check_pipeline(self, pipeline_id: str) -> None:
        if not self.may_use(pipeline_id):
            raise HTTPException(403, f"this API key may not act on pipeline {pipeline_id!r}{self._only()}")

    async def check_order(self, db: AsyncSession, order_id: str) -> None:
        """Refuses (403) an order outside the key's pipelines; an order the store does not
        know is refused the same way, so that the answer says nothing about other pipelines."""
        if self.pipelines is not None and not await self.visible(db, [order_id]):
            raise HTTPException(403, f"this API key may not act on order {order_id!r}{self._only()}")

    async def visible(self, db: AsyncSession, order_ids: Iterable[str]) -> list[str]:
        """Those of ``order_ids`` that are in the key's pipelines, in their order."""
        wanted = list(order_ids)
        if self.pipelines is None or not wanted:
            return wanted
        query = select(Order.id).where(col(Order.id).in_(wanted), col(Order.pipeline_id).in_(self.pipelines))
        allowed = set((await db.exec(query)).all())
        return [order_id for order_id in wanted if order_id in allowed]

    def _only(self) -> str:
        return f" (it may act on pipelines {', '.join(sorted(self.pipelines))} only)" if self.pipelines else ""


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def checked(key: ApiKey | None, scope: str) -> Caller:
    """The caller a key makes for ``scope``; a 401 or 403 saying why it cannot."""
    if key is None:
        raise _unauthorized("unknown API key")
    if key.revoked_at is not None:
        raise _unauthorized(f"API key {key.id} was revoked")
    if scope not in key.scopes and "admin" not in key.scopes:
        raise HTTPException(403, f"API key {key.id} lacks the scope {scope!r} (it has {', '.join(key.scopes)})")
    if scope in UNLIMITED_ONLY and key.pipelines is not None:
        raise HTTPException(403, f"API key {key.id} is limited to pipelines: {scope} needs a key for all of them")
    pipelines = frozenset(key.pipelines) if key.pipelines is not None else None
    return Caller(key_id=key.id, scopes=frozenset(key.scopes), pipelines=pipelines)


def require(scope: str, signed_in: bool = False) -> Any:
    """The dependency of a route that needs ``scope``: the calling key, as a ``Caller``;
    ``signed_in``: a browser's session (``api/codec_session.py``) stands for its key too."""

    async def caller(
        request: Request,
        store: Store,
        settings: AppSettings,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        token = request.cookies.get(COOKIE) if signed_in and settings.tracking_secret else None
        if credentials is None and token is None:
            raise _unauthorized(NO_KEY)
        async with session(store) as db:
            if credentials is not None:
                key = await key_of(db, credentials.credentials)
            else:
                key_id = session_key(settings.tracking_secret, token or "", time.time())
                if key_id is None:
                    raise _unauthorized(
                        "the codec session has expired or is not valid: sign in again at /codec/sign-in"
                    )
                key = await db.get(ApiKey, key_id)
        return checked(key, scope)

    return Depends(caller)


ReadsOrders = Annotated[Caller, require("orders:read")]
WritesOrders = Annotated[Caller, require("orders:write")]
WritesEvents = Annotated[Caller, require("events:write")]
DecodesPayloads = Annotated[Caller, require("payloads:decode", signed_in=True)]
Administers = Annotated[Caller, require("admin")]


async def refuse_anonymous(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A call with no key to a route that needs one is answered before its body is read (a
    browser's CORS preflight, which never carries one, goes on to the codec server's CORS)."""
    path = request.scope["path"]
    signed_in = path.startswith("/codec/") and COOKIE in request.cookies
    if (
        request.method != "OPTIONS"
        and not path.startswith(PUBLIC)
        and not signed_in
        and not request.headers.get("authorization", "").lower().startswith("bearer ")
    ):
        return JSONResponse({"detail": NO_KEY}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return await call_next(request)
