"""What the API's routes are given (FastAPI dependencies): the order client, the store and
the settings the app was made with (``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.rate_limit import PublicLimits
from config import Settings
from order_client import OrderClient


def _orders(request: Request) -> OrderClient:
    orders: OrderClient = request.app.state.orders
    return orders


def _store(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.store
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _public_limits(request: Request) -> PublicLimits:
    limits: PublicLimits = request.app.state.public_limits
    return limits


Orders = Annotated[OrderClient, Depends(_orders)]
Store = Annotated[AsyncEngine, Depends(_store)]
AppSettings = Annotated[Settings, Depends(_settings)]
Limits = Annotated[PublicLimits, Depends(_public_limits)]


def source_of(request: Request) -> str:
    """The caller's address (behind a proxy, the one uvicorn's ``--forwarded-allow-ips`` trusts)."""
    return request.client.host if request.client is not None else "unknown"
