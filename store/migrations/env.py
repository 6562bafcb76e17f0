"""Alembic's entry point. ``store/schema.py`` runs it on a live connection (``make run``,
the worker, the API, the CLI); developers run it by hand to write a revision:

    uv run alembic -c store/alembic.ini revision --autogenerate -m "what changes"

(against ``DATABASE_URL``, or the SQLite file of ``data/``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from store.schema import metadata, sync_url


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata(), render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    from config import Settings

    with create_engine(sync_url(Settings().database)).connect() as own:
        run(own)
        own.commit()
