"""Runs the worker: the order workflow, its rule activities and its store activities.

uv run python worker.py
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.follow_up import FollowUpActivities
from activities.messages import MessageActivities
from activities.orders import OrderActivities
from activities.rule_activities import rule_activities
from activities.rules.base import WorkerResources
from config import Settings, with_tracking_secret
from order_client import connect
from providers import Providers, http_client
from providers.mail import SmtpMailer
from store.database import make_engine
from store.schema import migrate
from workflows.children import CHILD_WORKFLOW_CLASSES
from workflows.order import OrderWorkflow


def build_deps(settings: Settings) -> WorkerResources:
    mailer = SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_ssl,
        timeout=settings.smtp_timeout_seconds,
    )
    providers = Providers(http=http_client(settings.provider_timeout_seconds))
    return WorkerResources(engine=make_engine(settings.database), mailer=mailer, settings=settings, providers=providers)


WORKFLOWS = [OrderWorkflow, *CHILD_WORKFLOW_CLASSES]


def all_activities(
    deps: WorkerResources, replacements: Mapping[str, Callable[..., Any]] | None = None
) -> list[Callable[..., Any]]:
    """The store activities and every rule activity. ``replacements`` (tests) stand in for
    activities, by name (a rule's is its kind)."""
    orders = OrderActivities(deps.engine, deps.writes)
    follow_up = FollowUpActivities(deps.engine)
    messages = MessageActivities(deps)
    by_name: dict[str, Callable[..., Any]] = {
        "load_pipeline": orders.load_pipeline,
        "start_order": orders.start_order,
        "start_versioned_order": orders.start_versioned_order,
        "version_at_entry": orders.version_at_entry,
        "constants_now": orders.constants_now,
        "save_order": orders.save_order,
        "leave_follow_up_note": follow_up.leave_follow_up_note,
        "resend_message": messages.resend_message,
        "settle_stopped_message": messages.settle_stopped_message,
        **rule_activities(deps),
    }
    return list({**by_name, **(replacements or {})}.values())


def build_worker(
    client: Client,
    deps: WorkerResources,
    task_queue: str | None = None,
    replacements: Mapping[str, Callable[..., Any]] | None = None,
    **options: Any,
) -> Worker:
    """The worker: the workflows and all their activities on one task queue."""
    return Worker(
        client,
        task_queue=task_queue or deps.settings.task_queue,
        workflows=WORKFLOWS,
        activities=all_activities(deps, replacements),
        **options,
    )


def configure_logging() -> None:
    """One plain line per record, on stderr: the engine's (a rule refused, with its reason),
    the SDK's, and the warnings of Temporal's core (forwarded, see ``order_client.runtime``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "mail.log"):  # a line per provider request, per SMTP command: noise
        logging.getLogger(chatty).setLevel(logging.WARNING)


async def main() -> None:
    configure_logging()
    settings = with_tracking_secret(Settings())
    deps = build_deps(settings)
    await migrate(deps.engine)
    client = await connect(settings)
    print(f"worker: task queue {settings.task_queue!r}, store {deps.engine.url.render_as_string()}")
    await build_worker(client, deps).run()


if __name__ == "__main__":
    asyncio.run(main())
