"""Each rule type's activity, run on the Temporal dev server against the real store
(SQLite and PostgreSQL), the loopback SMTP server and the providers' loopback server.

``run_rule`` runs one attempt of the rule's activity (a one-step workflow, no retry), so
that a test can run the same rule run again to play a retry, and see each attempt's error."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.rule_activities import rule_activities
from activities.rules.base import WorkerResources
from automation.order import ContactPoint, CustomerInfo
from automation.rule_kinds import rule_kind
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
def rule_deps(store: AsyncEngine, smtp: Mailbox, providers_server: ProvidersServer) -> WorkerResources:
    settings = Settings(
        smtp_port=smtp.port, mail_from="Shop <shop@shop.example>", tracking_secret="test-secret",
        mailboxes={"sales": "Sales <sales@shop.example>"},
        **providers_server.settings(),
    )  # fmt: skip
    mailer, providers = SmtpMailer(host="127.0.0.1", port=smtp.port), Providers(http=providers_server.http)
    return WorkerResources(engine=store, mailer=mailer, settings=settings, providers=providers)


@workflow.defn(name="RunOneRuleAttempt", sandboxed=False)
class RunOneRuleAttempt:
    """One attempt of a rule's activity, as the order's workflow would start it."""

    @workflow.run
    async def run(self, rule_input: RuleInput) -> RuleResult:
        rule = rule_kind(rule_input.rule_type)
        result: RuleResult = await workflow.execute_activity(
            rule.name,
            rule_input,
            result_type=RuleResult,
            start_to_close_timeout=rule.start_to_close,
            heartbeat_timeout=rule.heartbeat,
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


@pytest.fixture
async def run_rule(dev_env: WorkflowEnvironment, rule_deps: WorkerResources) -> AsyncIterator[RunRule]:
    """Runs rule ``kind`` with ``params`` as its activity would run; ``run_key`` defaults
    to a fresh one, pass the same to play a retry. A failed attempt raises its
    ``ApplicationError`` (type, message, non_retryable, next_retry_delay as Temporal saw them)."""
    task_queue = f"rules-{uuid.uuid4()}"

    async def run(kind: str, params: dict[str, Any], run_key: str | None = None, **values: Any) -> RuleResult:
        order = {"id": "O-1", "number": "N-1", "customer_id": CUSTOMER.id, "responsible_id": "emp-sales"}
        order.update(values.pop("order", {}))
        rule_input = RuleInput(
            order_id="O-1",
            run_key=run_key or f"O-1/0/{uuid.uuid4().hex[:6]}",
            stage="new",
            rule_index=0,
            rule_type=kind,
            params=rule_kind(kind).params.model_validate(params).model_dump(mode="json"),
            values={"order": order, "variables": {}, "constants": {}, "trigger": {}, **values},
        )
        try:
            return await dev_env.client.execute_workflow(
                RunOneRuleAttempt.run, rule_input, id=f"rule-{uuid.uuid4()}", task_queue=task_queue
            )
        except WorkflowFailureError as failure:
            attempt = failure.cause  # the activity's failure, around the rule's own error
            if isinstance(attempt, ActivityError) and attempt.cause is not None:
                raise attempt.cause from None
            raise

    activities = list(rule_activities(rule_deps).values())
    async with Worker(dev_env.client, task_queue=task_queue, workflows=[RunOneRuleAttempt], activities=activities):
        yield run
