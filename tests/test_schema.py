"""The store's schema migrations (Alembic), on SQLite and PostgreSQL: a fresh database
migrates to the newest revision, an older one keeps its rows, every step goes down as
well as up, and the table models agree with the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import session
from store.orders import read_timeline
from store.pipelines import version_of
from store.schema import BASELINE, MIGRATIONS, downgrade, metadata, migrate, revision_of
from store.tables import Order, PipelineRecord

SCRIPTS = ScriptDirectory(str(MIGRATIONS))
HEAD = SCRIPTS.get_current_head()
REVISIONS = [script.revision for script in reversed(list(SCRIPTS.walk_revisions()))]


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata()))


async def test_the_newest_schema_matches_the_table_models(any_engine: AsyncEngine) -> None:
    assert await revision_of(any_engine) == HEAD
    async with any_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []  # autogenerate would write nothing


async def test_every_revision_goes_down_and_up_again(any_engine: AsyncEngine) -> None:
    for revision in reversed(REVISIONS):
        script = SCRIPTS.get_revision(revision)
        assert script is not None and script.module.downgrade is not None
        target = script.down_revision or "base"
        await downgrade(any_engine, str(target))
        assert await revision_of(any_engine) == (None if target == "base" else target)
    await migrate(any_engine)
    assert await revision_of(any_engine) == HEAD


async def _insert_baseline_rows(engine: AsyncEngine) -> None:
    """Rows as an engine of the first versioned schema wrote them."""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO orders (id, pipeline_id, stage, fields, variables, created_at, updated_at) "
                "VALUES ('O-old', 'shop', 'paid', '{\"total\": 5}', '{}', :now, :now)"
            ),
            {"now": "2026-11-30 10:00:00+00:00"},
        )
        for seq in (1, 2):
            await connection.execute(
                text(
                    "INSERT INTO timeline (order_id, seq, at, kind, stage, message, data) "
                    "VALUES ('O-old', :seq, :now, 'stage_changed', 'paid', :message, '{}')"
                ),
                {"seq": seq, "now": "2026-11-30 10:00:00+00:00", "message": f"entry {seq}"},
            )


async def test_a_database_of_the_first_revision_migrates_with_its_rows(any_engine: AsyncEngine) -> None:
    await downgrade(any_engine, "base")
    await migrate(any_engine, BASELINE)
    await _insert_baseline_rows(any_engine)
    await migrate(any_engine)
    async with session(any_engine) as db:
        order = await db.get(Order, "O-old")
        timeline = await read_timeline(db, "O-old")
    assert order is not None and (order.stage, order.fields) == ("paid", {"total": 5})
    assert [(entry.seq, entry.message) for entry in timeline] == [(1, "entry 1"), (2, "entry 2")]


async def test_a_pipeline_stored_before_versions_were_kept_becomes_its_version_1(any_engine: AsyncEngine) -> None:
    await downgrade(any_engine, "0004")
    async with any_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO pipelines (id, title, version, webhook_secret, definition, loaded_at) "
                "VALUES ('shop', 'Shop', 'abc', 's', :definition, :now)"
            ),
            {"definition": '{"id": "shop", "stages": []}', "now": "2026-11-30 10:00:00+00:00"},
        )
    await migrate(any_engine)
    async with session(any_engine) as db:
        version = await version_of(db, "shop", 1)
        assert (await db.get(PipelineRecord, "shop")) is not None
    assert (version.content_hash, version.definition, version.changes) == ("abc", {"id": "shop", "stages": []}, [])
    assert (version.loaded_by, version.source) == ("unknown", "stored before versions were kept")


async def test_a_database_made_before_versioning_is_taken_as_the_first_revision(any_engine: AsyncEngine) -> None:
    # What create_all made before the schema was versioned: the baseline's tables, no version.
    await downgrade(any_engine, "base")
    await migrate(any_engine, BASELINE)
    async with any_engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))
    await _insert_baseline_rows(any_engine)
    await migrate(any_engine)
    assert await revision_of(any_engine) == HEAD
    async with session(any_engine) as db:
        assert len(await read_timeline(db, "O-old")) == 2
