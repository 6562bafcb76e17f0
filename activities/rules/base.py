"""What a rule's code gets when it runs (``RuleContext``), and the helpers rules share.

A rule kind's spec (its params, timeouts, retry policy) is in the core
(``automation/rule_kinds/``); its ``run`` function, in ``activities/rules/<name>.py``,
gets a ``RuleContext`` and its params. The worker turns each into an activity named after
the kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.templates import render_template
from automation import limits
from automation.models import cut
from automation.rules import RESPONSIBLE, RuleInput, RuleResult
from config import Settings
from providers import Providers
from providers.mail import SmtpMailer
from store.database import insert_once, session
from store.group_commit import GroupCommit
from store.tables import Employee, RuleRun


def refuse(message: str) -> ApplicationError:
    """A business error: retrying would not help, so the rule is recorded as failed at once."""
    return ApplicationError(
        cut(message, limits.TIMELINE_MESSAGE_CHARS),
        type="RuleRefused",
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,  # the worker logs no traceback for it: it is no crash
    )


def shorten(text: str, width: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class WorkerResources:
    """What the worker's activities reach the world through (the store, mail, providers,
    settings); built once when the worker starts."""

    engine: AsyncEngine
    mailer: SmtpMailer
    settings: Settings
    providers: Providers = field(default_factory=Providers)
    """SMS, calls, open channels (HTTP); they read their URLs and credentials from ``settings``."""
    writes: GroupCommit = field(init=False)
    """The worker's small store writes, those waiting together in one transaction."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "writes", GroupCommit(self.engine))


@dataclass(frozen=True)
class RuleContext:
    input: RuleInput
    deps: WorkerResources
    values: dict[str, Any]
    """Template values: the workflow's (order, variables, constants, trigger, wait) plus
    ``customer`` and ``responsible`` read from the store."""
    final_attempt: bool = False
    """No retry follows this attempt if it fails (its retry policy is used up)."""

    async def render(self, template: str, html: bool = False, most: int = limits.TEMPLATE_OUTPUT_CHARS) -> str:
        """The template with the order's values; a template that cannot render (or takes too
        long, too much memory, or makes too much output) fails the rule, saying why."""
        try:
            return await render_template(template, self.values, html, most)
        except ValueError as err:
            raise refuse(str(err)) from None  # the same template fails the same way on retry

    @property
    def order_id(self) -> str:
        return self.input.order_id

    @property
    def run_key(self) -> str:
        return self.input.run_key

    @property
    def responsible_id(self) -> str | None:
        responsible: str | None = self.values.get("order", {}).get("responsible_id")
        return responsible

    async def write_once(self, row: SQLModel) -> bool:
        """Saves a row keyed by this run's ``run_key``; a retry finds it and writes nothing."""
        return await self.deps.writes.write(lambda db: insert_once(db, row, "run_key"))

    async def employee(self, ref: str) -> Employee:
        """The employee ``ref`` names (an id, or ``responsible``); refused if there is none."""
        employee_id = self.responsible_id if ref == RESPONSIBLE else ref
        if employee_id is None:
            raise refuse("the order has no responsible employee")
        async with session(self.deps.engine) as db:
            employee = await db.get(Employee, employee_id)
        if employee is None:
            raise refuse(f"no employee with id {employee_id!r}")
        return employee


_RULE_RUNS: Any = RuleRun.__table__  # type: ignore[attr-defined]
_DONE = select(_RULE_RUNS.c.result).where(_RULE_RUNS.c.run_key == bindparam("run_key"))


async def once(ctx: RuleContext, act: Callable[[AsyncSession], Awaitable[RuleResult]]) -> RuleResult:
    """Runs ``act`` and saves its result (a ``RuleRun``) in the same transaction as its
    writes: a retry after the commit answers the same, events included, and acts no more.
    (Core statements, built once: every rule that writes passes here.)"""
    async with session(ctx.deps.engine) as db:
        connection = await db.connection()
        done = (await connection.execute(_DONE, {"run_key": ctx.run_key})).first()
        if done is not None:
            return RuleResult.model_validate(done.result)
        result = await act(db)
        run = RuleRun(run_key=ctx.run_key, order_id=ctx.order_id, result=result.model_dump(mode="json"))
        await connection.execute(insert(_RULE_RUNS), run.model_dump())
        await db.commit()
    return result
