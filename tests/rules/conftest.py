"""Each rule type's activity, run on its own against the real store (SQLite and
PostgreSQL) and a loopback SMTP server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import ActivityEnvironment

from activities.registry import rule_type
from activities.rule_activities import rule_activity
from activities.rules.base import Deps
from automation.order import ContactPoint, CustomerInfo
from automation.rules import RuleInput, RuleResult
from config import Settings
from providers import Providers
from providers.mail import SmtpMailer
from store.database import session
from store.directory import save_customer
from store.orders import save_order
from tests.conftest import EMPLOYEES, Mailbox
from tests.providers_server import ProvidersServer

RunRule = Callable[..., Awaitable[RuleResult]]

CUSTOMER = CustomerInfo(
    id="cust-ada",
    first_name="Ada",
    last_name="Lovelace",
    emails=[ContactPoint(type="home", value="ada@home.example"), ContactPoint(type="work", value="ada@work.example")],
    phones=[ContactPoint(type="mobile", value="+15550100")],
)


@pytest.fixture
async def store(any_engine: AsyncEngine) -> AsyncEngine:
    """An order ``O-1`` of customer Ada, responsible Sam, and the example employees."""
    async with session(any_engine) as db:
        for employee in EMPLOYEES:
            await db.merge(employee)
        await save_customer(db, CUSTOMER)
        await save_order(
            db, "O-1", pipeline_id="p", stage="new", customer_id=CUSTOMER.id, responsible_id="emp-sales",
            fields={"number": "N-1"}, variables={},
        )  # fmt: skip
        await db.commit()
    return any_engine


@pytest.fixture
def rule_deps(store: AsyncEngine, smtp: Mailbox, providers_server: ProvidersServer) -> Deps:
    settings = Settings(
        smtp_port=smtp.port, mail_from="Shop <shop@shop.example>", tracking_secret="test-secret",
        mailboxes={"sales": "Sales <sales@shop.example>"},
        **providers_server.settings(),
    )  # fmt: skip
    mailer, providers = SmtpMailer(host="127.0.0.1", port=smtp.port), Providers(http=providers_server.http)
    return Deps(engine=store, mailer=mailer, settings=settings, providers=providers)


@pytest.fixture
def run_rule(rule_deps: Deps) -> RunRule:
    """Runs rule ``kind`` with ``params`` as its activity would run; ``run_key`` defaults
    to a fresh one, pass the same to simulate a retry."""

    async def run(kind: str, params: dict[str, Any], run_key: str | None = None, **values: Any) -> RuleResult:
        order = {"id": "O-1", "number": "N-1", "customer_id": CUSTOMER.id, "responsible_id": "emp-sales"}
        order.update(values.pop("order", {}))
        rule_input = RuleInput(
            order_id="O-1",
            run_key=run_key or f"O-1/0/{uuid.uuid4().hex[:6]}",
            stage="new",
            rule_index=0,
            rule_type=kind,
            params=rule_type(kind).params.model_validate(params).model_dump(mode="json"),
            values={"order": order, "variables": {}, "constants": {}, "trigger": {}, **values},
        )
        result: RuleResult = await ActivityEnvironment().run(rule_activity(rule_type(kind), rule_deps), rule_input)
        return result

    return run
