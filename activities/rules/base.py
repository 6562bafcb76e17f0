"""What a rule type is made of, and what its code gets when it runs.

A rule type is a ``RuleType``: a typed params model, an async ``run`` function, and
its timeouts and retry policy. ``activities/registry.py`` lists them; the worker turns
each into an activity named after its ``kind``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.templates import render_template
from automation import limits
from automation.models import cut
from automation.rules import RuleInput, RuleParams, RuleResult
from config import Settings
from providers import Providers
from providers.mail import SmtpMailer
from store.database import insert_once, session
from store.tables import Employee, RuleRun

RESPONSIBLE = "responsible"
"""Where a rule names an employee, this word means the order's responsible person."""


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
class Deps:
    """What rules reach the world through; built once when the worker starts."""

    engine: AsyncEngine
    mailer: SmtpMailer
    settings: Settings
    providers: Providers = field(default_factory=Providers)
    """SMS, calls, open channels (HTTP); they read their URLs and credentials from ``settings``."""


@dataclass(frozen=True)
class RuleContext:
    input: RuleInput
    deps: Deps
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
        async with session(self.deps.engine) as db:
            inserted = await insert_once(db, row, "run_key")
            await db.commit()
        return inserted

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


async def once(ctx: RuleContext, act: Callable[[AsyncSession], Awaitable[RuleResult]]) -> RuleResult:
    """Runs ``act`` and saves its result (a ``RuleRun``) in the same transaction as its
    writes: a retry after the commit answers the same, events included, and acts no more."""
    async with session(ctx.deps.engine) as db:
        done = await db.get(RuleRun, ctx.run_key)
        if done is not None:
            return RuleResult.model_validate(done.result)
        result = await act(db)
        db.add(RuleRun(run_key=ctx.run_key, order_id=ctx.order_id, result=result.model_dump(mode="json")))
        await db.commit()
    return result


P = TypeVar("P", bound=RuleParams)

DEFAULT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=["RuleRefused"],
)


@dataclass(frozen=True)
class RuleType(Generic[P]):
    kind: str
    title: str
    description: str
    params: type[P]
    run: Callable[[RuleContext, P], Awaitable[RuleResult]]
    start_to_close: timedelta = timedelta(seconds=30)
    heartbeat: timedelta | None = timedelta(seconds=10)
    """The worker heartbeats while the rule runs, so that a cancelled rule (its order left
    the stage) stops, and a dead worker's rule is retried, within this time."""
    retry: RetryPolicy = field(default_factory=lambda: DEFAULT_RETRY)
    sends_messages: bool = False
    """True where its message goes through the outbox (``_outbox.py``): stopped while it
    runs, the order settles its row (``settle_stopped_message``)."""
    holds_branch: bool = False
    """True for Wait: the workflow holds the branch until customer activity or the
    deadline, and only then runs the activity."""
