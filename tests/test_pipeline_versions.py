"""Pipeline versions in the store, on SQLite and PostgreSQL: each load with new content is
the next version, immutable, with what it changed; an earlier one is made current again as
a new version; the same content again stores nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from automation.contracts import StageEntry, VersionAtEntry
from automation.pipeline import parse_pipeline
from automation.versions import content_hash
from store.database import session
from store.orders import save_order
from store.pipelines import (
    NoSuchVersion,
    StageMovesNeeded,
    diff_versions,
    get_pipeline,
    known_current,
    list_versions,
    preview_pipeline,
    remember_newest,
    restore_version,
    save_pipeline,
    version_at_entry,
    version_of,
    version_pipeline,
)

FIRST = parse_pipeline("""
id: shop
title: Shop
stages:
  - {id: new, title: New, rules: [{type: write_to_log, params: {message: hello}}]}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
""")
SECOND = parse_pipeline("""
id: shop
title: Shop
stages:
  - {id: new, title: New, rules: [{type: write_to_log, params: {message: hello again}}]}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
  - {id: lost, title: Lost, final: failure, triggers: [{type: order_cancelled}]}
""")


async def test_each_new_content_is_the_next_version_and_the_same_content_stores_nothing(
    any_engine: AsyncEngine,
) -> None:
    async with session(any_engine) as db:
        first = await save_pipeline(db, FIRST, actor="user:ada", source="file shop.yaml")
        again = await save_pipeline(db, FIRST, actor="user:bob", source="file shop.yaml")
        second = await save_pipeline(db, SECOND, actor="key:k1", source="the HTTP API")
        await db.commit()
    assert (first.new, first.version.number, again.new, again.version.number) == (True, 1, False, 1)
    assert (second.new, second.version.number, second.record.version) == (True, 2, content_hash(SECOND))
    assert second.record.webhook_secret == first.record.webhook_secret  # made once, kept
    async with session(any_engine) as db:
        versions = await list_versions(db, "shop")
        assert await get_pipeline(db, "shop") == SECOND  # new orders run the newest
    assert [(v.number, v.loaded_by, v.source) for v in versions] == [
        (1, "user:ada", "file shop.yaml"),
        (2, "key:k1", "the HTTP API"),
    ]
    assert [c["action"] + " " + c["place"] for c in versions[1].changes] == [
        "changed stage 'new', rule 1 (write_to_log)",
        "added stage 'lost'",
    ]


async def test_an_earlier_version_made_current_again_is_a_new_version_with_its_content(
    any_engine: AsyncEngine,
) -> None:
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        await save_pipeline(db, SECOND)
        restored = await restore_version(db, "shop", 1, actor="user:ada")
        await db.commit()
    assert (restored.new, restored.version.number, restored.version.source) == (
        True, 3, "version 1 made current again",
    )  # fmt: skip
    assert restored.version.content_hash == content_hash(FIRST)
    async with session(any_engine) as db:
        assert await get_pipeline(db, "shop") == FIRST
        assert await diff_versions(db, "shop", 1, 3) == []
        assert [c.line() for c in await diff_versions(db, "shop", 2, 3)] == [
            "~ stage 'new', rule 1 (write_to_log): params.message",
            "- stage 'lost': 'Lost', 1 trigger(s), 0 rule(s)",
        ]
        assert (await restore_version(db, "shop", 3, actor="user:ada")).new is False  # already current


async def test_a_version_reads_back_as_stored_and_an_unknown_one_is_named(any_engine: AsyncEngine) -> None:
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        await save_pipeline(db, SECOND)
        await db.commit()
        with pytest.raises(NoSuchVersion, match=r"pipeline 'shop' has versions 1 to 2, not 7"):
            await version_of(db, "shop", 7)
        with pytest.raises(NoSuchVersion, match=r"no pipeline 'nope'"):
            await version_of(db, "nope", 1)
        first = await version_of(db, "shop", 1)
    assert version_pipeline(first, strict=True) == FIRST


async def test_a_version_this_engine_no_longer_accepts_is_not_made_current(any_engine: AsyncEngine) -> None:
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        await save_pipeline(db, SECOND)
        stale = await version_of(db, "shop", 1)  # as an older engine stored it: a rule type since removed
        stale.definition = {**stale.definition, "stages": [
            {**stale.definition["stages"][0], "rules": [{"type": "retired_rule", "params": {}}]},
            *stale.definition["stages"][1:],
        ]}  # fmt: skip
        db.add(stale)
        await db.commit()
        with pytest.raises(ValidationError, match="unknown rule type 'retired_rule'"):
            await restore_version(db, "shop", 1, actor="user:ada")
        assert [v.number for v in await list_versions(db, "shop")] == [1, 2]


RENAMED = SECOND.model_copy(
    update={"stages": [SECOND.stages[0], SECOND.stages[1].model_copy(update={"id": "settled"}), SECOND.stages[2]]}
)


async def test_a_version_removing_a_stage_with_orders_in_it_is_refused_unless_it_says_where_they_go(
    any_engine: AsyncEngine,
) -> None:
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        for order_id in ("O-1", "O-2"):
            await save_order(db, order_id, pipeline_id="shop", stage="paid", customer_id=None, responsible_id=None,
                             fields={}, variables={})  # fmt: skip
        await db.commit()
        seen = await preview_pipeline(db, RENAMED)
        assert seen.problems == [
            "stage 'paid' is removed but 2 order(s) are in it: say where they go (a stage move paid=STAGE)"
        ]
        assert [(r.change.line(), r.orders) for r in seen.reaches][-1] == (
            "- stage 'paid': 'Paid', 1 trigger(s), 0 rule(s)", 2,
        )  # fmt: skip
        with pytest.raises(StageMovesNeeded, match="stage 'paid' is removed but 2 order"):
            await save_pipeline(db, RENAMED)
        assert [v.number for v in await list_versions(db, "shop")] == [1]  # refused: nothing stored
        stored = await save_pipeline(db, RENAMED, stage_moves={"paid": "settled"})
        await db.commit()
    assert (stored.version.number, stored.version.stage_moves) == (2, {"paid": "settled"})


async def test_an_entering_order_finds_its_stage_through_every_version_since_its_own(any_engine: AsyncEngine) -> None:
    closed = RENAMED.model_copy(
        update={"stages": [RENAMED.stages[0], RENAMED.stages[1].model_copy(update={"id": "closed"}), RENAMED.stages[2]]}
    )
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        await save_pipeline(db, RENAMED, stage_moves={"paid": "settled"})
        await save_pipeline(db, closed, stage_moves={"settled": "closed"})
        await db.commit()

        async def entering(stage: str, number: int | None, digest: str | None = None) -> tuple[object, ...]:
            found = await version_at_entry(db, StageEntry(pipeline_id="shop", number=number, content_hash=digest,
                                                          stage=stage))  # fmt: skip
            return found.outcome, found.number, found.stage

        assert await entering("paid", 1) == ("newest", 3, "closed")  # paid -> settled -> closed
        assert await entering("settled", 2) == ("newest", 3, "closed")
        assert await entering("closed", 3) == ("current", 3, None)
        assert await entering("lost", 1) == ("newest", 3, "lost")
        assert await entering("paid", None, content_hash(closed)) == ("same_content", 3, "paid")
        await save_pipeline(db, FIRST.model_copy(update={"stages": [*FIRST.stages[:1], closed.stages[1]]}))
        assert await entering("lost", 3) == ("no_place", 4, None)  # removed, with no stage instead


async def test_the_newest_versions_own_stage_wins_over_the_moves_of_the_versions_between(
    any_engine: AsyncEngine,
) -> None:
    """A stage removed (and moved elsewhere) by one version and brought back by a later one
    is taken as the newest has it; a version past the newest (a store restored from a
    backup) keeps the order where it is; an order that began before versions were kept
    starts from the version of its content."""
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        await save_pipeline(db, RENAMED, stage_moves={"paid": "settled"})
        await restore_version(db, "shop", 1, actor="user:ada")  # 'paid' is back, 'settled' gone
        await db.commit()

        async def entering(stage: str, number: int | None, digest: str | None = None) -> tuple[object, ...]:
            found = await version_at_entry(db, StageEntry(pipeline_id="shop", number=number, content_hash=digest,
                                                          stage=stage))  # fmt: skip
            return found.outcome, found.number, found.stage

        assert await entering("paid", 1) == ("newest", 3, "paid")
        assert await entering("paid", 7) == ("current", 7, None)
        assert await entering("settled", None, content_hash(RENAMED)) == ("no_place", 3, None)
        assert await entering("paid", None, content_hash(FIRST)) == ("same_content", 3, "paid")


async def test_a_worker_knows_the_newest_number_for_a_moment_and_forgets_it_when_it_stores_one(
    any_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = StageEntry(pipeline_id="shop", number=1, stage="paid")
    async with session(any_engine) as db:
        await save_pipeline(db, FIRST)
        assert known_current(entry) is None  # never read: the store is asked
        assert (await version_at_entry(db, entry)).outcome == "current"
        assert known_current(entry) == VersionAtEntry(outcome="current", number=1)  # no store read now
        await save_pipeline(db, SECOND)
        assert known_current(entry) is None  # stored here: known at once
        assert (await version_at_entry(db, entry)).outcome == "newest"
        monkeypatch.setattr("store.pipelines.NEWEST_KNOWN_FOR", -1.0)
        remember_newest("shop", 1)
        assert known_current(entry) is None  # read too long ago: asked again
