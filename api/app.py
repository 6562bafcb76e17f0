"""The HTTP API (FastAPI; its OpenAPI schema is at ``/openapi.json``, docs at ``/docs``).

Bad input gets a 4xx that says what is wrong and where; an accepted event is handed to
the order's workflow before the answer is sent, so it is never lost. The routes are in
``api/routers/``, one module per area; they get the order client, the store and the
settings as FastAPI dependencies (``api/dependencies.py``).
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import refuse_anonymous
from api.body_limit import BodyLimit
from api.codec_cors import CodecCors
from api.errors import install_error_handlers, refuse_nul
from api.rate_limit import PublicLimits
from api.routers import catalog, codec, constants, customers, orders, pipelines, test_mode, tracking_links, webhooks
from automation import limits
from config import Settings
from order_client import OrderClient

AREAS = (orders, customers, pipelines, test_mode, constants, catalog, webhooks, tracking_links, codec)
"""The routers' modules, one per area."""


def create_app(order_client: OrderClient, engine: AsyncEngine, settings: Settings) -> FastAPI:
    app = FastAPI(title="Order automation", version="0.1.0", description=__doc__)
    app.state.orders, app.state.store, app.state.settings = order_client, engine, settings
    app.state.public_limits = PublicLimits.per_minute(
        settings.public_source_per_minute, settings.public_target_per_minute
    )
    app.state.codec = order_client.client.data_converter.payload_codec
    app.add_middleware(BodyLimit, most=limits.REQUEST_BODY_BYTES, under={"/codec/": limits.CODEC_REQUEST_BYTES})
    app.add_middleware(CodecCors, origins=settings.codec_origins)
    app.middleware("http")(refuse_anonymous)
    app.middleware("http")(refuse_nul)
    install_error_handlers(app)
    for area in AREAS:
        app.include_router(area.router)
    return app
