"""The fast layer: the pure core (matching, conditions, delays, templating, pipeline
validation, the order's state and its budget, effects, the layers), tested without any
server or database, in seconds: `make test-core`. A test here that asks for a server or a
store is refused, so the layer stays fast."""

from __future__ import annotations

import pytest

SERVERS = {"dev_env", "small_history_env", "time_env", "db_engine", "any_engine", "postgres_url", "deps", "smtp"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = SERVERS & set(getattr(item, "fixturenames", ()))
        if "tests/core/" in item.nodeid and used:
            raise pytest.UsageError(f"{item.nodeid} uses {', '.join(sorted(used))}: the core's tests need no server")
