"""Order fields that rules set (Edit element, Edit details, Pay order): written to the
order's row in the store and handed back as ``order_changes``, so that the workflow's own
copy (what later conditions and templates read) follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules.base import RuleContext, shorten
from automation.rule_kinds._parts import FieldValue
from automation.rules import RuleResult
from store.columns import utcnow
from store.database import session
from store.tables import Order

Changes = Callable[[dict[str, Any]], dict[str, Any]]
"""From the order's current fields, the fields to set."""


async def render_values(ctx: RuleContext, values: dict[str, FieldValue]) -> dict[str, Any]:
    return {name: (await ctx.render(value)) if isinstance(value, str) else value for name, value in values.items()}


def describe(values: dict[str, Any]) -> str:
    """The values set, for the timeline."""
    return shorten(", ".join(f"{name}={value!r}" for name, value in values.items()))


async def lock_order(db: AsyncSession, order_id: str) -> Order | None:
    """The order's row, locked until commit (PostgreSQL; SQLite writes one at a time anyway),
    so that rules of parallel branches editing the order do not lose each other's changes.
    None while the workflow has not stored the order yet."""
    return (await db.exec(select(Order).where(Order.id == order_id).with_for_update())).first()


async def update_order(db: AsyncSession, ctx: RuleContext, changes: Changes) -> dict[str, Any]:
    """Applies ``changes`` to the order's row in ``db`` (not committed) and returns them.

    The stored row is the base when there is one: it holds every committed edit, those of
    parallel branches too; before the workflow stores it, the workflow's own copy is."""
    order = await lock_order(db, ctx.order_id)
    current = dict(order.fields) if order is not None else dict(ctx.values.get("order", {}))
    changed = changes(current)
    if order is not None:  # a new dict: SQLAlchemy does not see changes inside a JSON value
        order.fields, order.updated_at = {**order.fields, **changed}, utcnow()
        db.add(order)
    return changed


async def set_order_fields(ctx: RuleContext, changes: Changes) -> dict[str, Any]:
    """``update_order`` in a transaction of its own. Setting fields is idempotent: a retry
    sets the same values again."""
    async with session(ctx.deps.engine) as db:
        changed = await update_order(db, ctx, changes)
        await db.commit()
    return changed


async def set_fields_rule(ctx: RuleContext, values: dict[str, FieldValue], into: str | None = None) -> RuleResult:
    """Edit element (``values`` are order fields) and Edit details (``values`` are merged
    into the mapping in field ``into``, its other keys kept); text values are templates."""
    rendered = await render_values(ctx, values)

    def changes(current: dict[str, Any]) -> dict[str, Any]:
        if into is None:
            return rendered
        kept = current.get(into)
        return {into: {**(kept if isinstance(kept, dict) else {}), **rendered}}

    changed = await set_order_fields(ctx, changes)
    what = "order fields" if into is None else f"order {into}"
    return RuleResult(summary=f"{what} set: {describe(changed if into is None else rendered)}", order_changes=changed)
