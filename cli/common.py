"""What the commands share. The store and Temporal's client are imported by the commands
that use them: a command that needs neither starts in a fraction of the time."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


async def store_engine() -> AsyncEngine:
    """The store of the settings (``DATABASE_URL``), brought up to date."""
    from store.database import make_engine
    from store.schema import migrate

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database)
    await migrate(engine)
    return engine


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
