"""What the API's routes are given (FastAPI dependencies): the order client, the store and
the settings the app was made with (``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

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


Orders = Annotated[OrderClient, Depends(_orders)]
Store = Annotated[AsyncEngine, Depends(_store)]
AppSettings = Annotated[Settings, Depends(_settings)]
