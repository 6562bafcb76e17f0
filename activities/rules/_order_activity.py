"""Adding an activity to the order (a to-do, a planned call or meeting), shared by the
Activity, Schedule call and Schedule meeting rules (a module starting with ``_`` is a
helper, not a rule type)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from activities.rules.base import RuleContext, shorten
from automation.rule_kinds._parts import ScheduleParams
from automation.rules import RuleResult
from store.tables_people import OrderActivity

ActivityKind = Literal["todo", "call", "meeting"]


async def add_order_activity(
    ctx: RuleContext,
    kind: ActivityKind,
    *,
    subject: str,
    description: str,
    assignee_id: str,
    with_whom: str | None = None,
    starts_in: timedelta | None = None,
    duration: timedelta | None = None,
    due_in: timedelta | None = None,
) -> RuleResult:
    """Adds the activity; ``subject``, ``description`` and ``with_whom`` are templates,
    the times count from now."""
    assignee = await ctx.employee(assignee_id)
    row = OrderActivity(
        run_key=ctx.run_key,
        order_id=ctx.order_id,
        kind=kind,
        subject=await ctx.render(subject),
        description=await ctx.render(description),
        assignee_id=assignee.id,
    )
    if with_whom is not None:
        row.with_whom = await ctx.render(with_whom) or None  # no customer name: nobody named
    if starts_in is not None:
        row.starts_at = row.created_at + starts_in
        row.ends_at = row.starts_at + duration if duration is not None else None
    if due_in is not None:
        row.deadline = row.created_at + due_in
    await ctx.write_once(row)
    return RuleResult(summary=_summary(row, assignee.name, starts_in))


def _summary(row: OrderActivity, assignee: str, starts_in: timedelta | None) -> str:
    what = {"todo": "to-do", "call": "call", "meeting": "meeting"}[row.kind]
    with_whom = f" with {row.with_whom}" if row.with_whom else ""
    # Said relative to now, not as a clock time: a retry then gives the same line.
    when = f" in {starts_in}" if starts_in is not None else ""
    return f"{what}{with_whom}{when} for {assignee}: {shorten(row.subject)}"


async def schedule(ctx: RuleContext, kind: Literal["call", "meeting"], params: ScheduleParams) -> RuleResult:
    return await add_order_activity(
        ctx,
        kind,
        subject=params.subject,
        description=params.description,
        assignee_id=params.assignee_id,
        with_whom=params.with_whom,
        starts_in=params.starts_in,
        duration=params.duration,
    )
