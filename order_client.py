"""The calls services make, as a small module to import (``starter.py`` is its CLI).

client = OrderClient(await connect())
await client.create_order(NewOrder(order_id="1001", pipeline_id="online-store"))
await client.send_event("1001", {"event_id": "pay-1", "type": "payment", ...})
outcome = await client.apply_event("1001", {...})   # waits; answers the new stage
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.envconfig import ClientConfig
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode

from automation import TASK_QUEUE, events, limits, search
from automation.events import Event, Source
from automation.models import SLUG_PATTERN
from automation.order import NewOrder, workflow_id
from automation.state import EventOutcome, OrderInput, OrderView, ResendOutcome, ResendRequest
from config import Settings, with_payload_keys
from encryption import PayloadKeys, encrypting_converter, new_key
from workflows.order import OrderWorkflow

logger = logging.getLogger(__name__)
UPDATE_ATTEMPTS = 6
ANNOUNCE_ATTEMPTS = 6
"""Tries of an announcement the server refuses as busy (0.25 s, doubling: about 8 s in all)."""
ANNOUNCE_TIMEOUT = timedelta(seconds=5)
ANSWER_WITHIN = timedelta(seconds=10)
"""How long ``apply_event`` waits for the order's answer; with no worker running it raises
``WorkflowUpdateRPCTimeoutOrCancelledError`` then (nothing applied: retry with the same id)."""


class Overloaded(RuntimeError):
    """Too many events wait for one order's answer in this process: retry a moment later."""


class _Slots:
    """At most ``per_key`` holders per key at once (updates in flight to one order: Temporal
    takes 10; past that it refuses them, after retrying for seconds)."""

    def __init__(self, per_key: int) -> None:
        self._per_key = per_key
        self._held: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str, within: float) -> AsyncIterator[None]:
        semaphore, users = self._held.get(key, (asyncio.Semaphore(self._per_key), 0))
        self._held[key] = (semaphore, users + 1)
        try:
            try:
                await asyncio.wait_for(semaphore.acquire(), within)
            except TimeoutError:
                raise Overloaded(f"more than {self._per_key} events wait for order {key!r}'s answer") from None
            try:
                yield
            finally:
                semaphore.release()
        finally:
            semaphore, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (semaphore, users - 1)


@functools.cache
def runtime() -> Runtime:
    """Temporal's runtime, its core's log lines (warnings and errors) sent to Python's
    logging (``temporalio.core``): plain lines wherever the program logs, no colour codes."""
    core_logs = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    levels = TelemetryFilter(core_level="WARN", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=levels, forwarding=core_logs)))


async def connect(settings: Settings | None = None, **overrides: Any) -> Client:
    """A client configured the Temporal way (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``,
    ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS``..., or a ``temporal.toml`` profile), encrypting
    its payloads with the settings' ``PAYLOAD_KEYS`` (``encryption.py``)."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", "localhost:7233")
    config.update(overrides)
    keys = PayloadKeys.parse(with_payload_keys(settings or Settings(), new_key).payload_keys)
    return await Client.connect(**config, data_converter=encrypting_converter(keys), runtime=runtime())


def parse_event(event: Event | Mapping[str, Any], source: Source = "service") -> Event:
    """The event, checked (InvalidEvent says each problem); ``source`` says who sends it."""
    return events.parse_event(event.model_dump() if isinstance(event, Event) else dict(event), source)


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    workflow_id: str
    stage: str | None
    pipeline_id: str | None
    responsible_id: str | None
    status: str


class OrderClient:
    def __init__(self, client: Client, task_queue: str = TASK_QUEUE, answer_within: timedelta = ANSWER_WITHIN) -> None:
        self.client = client
        self.task_queue = task_queue
        self.answer_within = answer_within
        self._updates = _Slots(limits.UPDATES_PER_ORDER)

    def _start(self, order: NewOrder) -> dict[str, Any]:
        attributes = [
            SearchAttributePair(search.ORDER_PIPELINE, order.pipeline_id),
            SearchAttributePair(search.ORDER_OUTCOME, search.OPEN),
        ]
        if order.customer is not None:
            attributes.append(SearchAttributePair(search.ORDER_CUSTOMER, order.customer.id))
        if order.test:
            attributes.append(SearchAttributePair(search.ORDER_MODE, search.TEST))
        return {
            "id": workflow_id(order.order_id),
            "task_queue": self.task_queue,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            # A deleted order stays deleted: its id (and the keys of its rule runs) is not reused.
            "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
            "search_attributes": TypedSearchAttributes(attributes),
            "static_summary": f"Order {order.order_id} in pipeline {order.pipeline_id}",
        }

    async def announce_version(self, pipeline_id: str, number: int) -> bool:
        """Tells the running orders of the pipeline that its version ``number`` was stored, so
        that each takes it at its next stage entry (one that hears nothing asks after a minute
        all the same): a batch operation signalling them, on the server. False, with a
        warning logged, if the server did not take it (the version is stored all the same)."""
        if not re.fullmatch(SLUG_PATTERN, pipeline_id):
            raise ValueError(f"not a pipeline id: {pipeline_id!r}")
        running = f"WorkflowType = 'Order' AND ExecutionStatus = 'Running' AND {search.ORDER_PIPELINE.name} = "
        payloads = await self.client.data_converter.encode([{"pipeline_id": pipeline_id, "number": number}])
        request = StartBatchOperationRequest(
            namespace=self.client.namespace,
            visibility_query=f"{running}'{pipeline_id}'",
            job_id=f"announce-{pipeline_id}-{number}-{uuid.uuid4().hex[:8]}",
            reason=f"version {number} of pipeline {pipeline_id!r} stored",
            signal_operation=BatchOperationSignal(
                signal="pipeline_version", input=Payloads(payloads=payloads), identity=self.client.identity
            ),
        )
        for attempt in range(ANNOUNCE_ATTEMPTS):
            try:
                await self.client.workflow_service.start_batch_operation(request, timeout=ANNOUNCE_TIMEOUT)
                return True
            except RPCError as err:
                # The server runs one batch operation per namespace at a time by default: the
                # announcement before this one (a copy stores two versions) may still be going.
                busy = err.status == RPCStatusCode.RESOURCE_EXHAUSTED and attempt < ANNOUNCE_ATTEMPTS - 1
                if not busy:
                    logger.warning("version %s of %s not announced (running orders take it within a minute): %s",
                                   number, pipeline_id, err.message)  # fmt: skip
                    return False
                await asyncio.sleep(0.25 * 2**attempt)
        return False

    def handle(self, order_id: str) -> WorkflowHandle[OrderWorkflow, None]:
        return self.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(order_id))

    async def create_order(self, order: NewOrder) -> WorkflowHandle[OrderWorkflow, None]:
        """Starts the order's workflow; creating an order that exists changes nothing."""
        return await self.client.start_workflow(OrderWorkflow.run, OrderInput(order=order), **self._start(order))

    async def send_event(
        self, order: str | NewOrder, event: Event | Mapping[str, Any], source: Source = "service"
    ) -> None:
        """Fire and forget. Given a ``NewOrder``, starts the order if it is not running yet.
        ``source``: who sends it (the API's signed webhook and tracking links say so)."""
        payload = parse_event(event, source).model_dump(mode="json")
        if isinstance(order, str):
            await self.handle(order).signal(OrderWorkflow.event, payload)
            return
        await self.client.start_workflow(
            OrderWorkflow.run, OrderInput(order=order), start_signal="event", start_signal_args=[payload],
            **self._start(order),
        )  # fmt: skip

    async def apply_event(
        self, order: str | NewOrder, event: Event | Mapping[str, Any], source: Source = "service"
    ) -> EventOutcome:
        """Waits until the order has handled the event (within ``answer_within``); answers
        the stage it led to. Raises ``Overloaded`` when too many wait for the same order."""
        parsed = parse_event(event, source)
        payload = parsed.model_dump(mode="json")
        order_id = order if isinstance(order, str) else order.order_id
        deadline = asyncio.get_running_loop().time() + self.answer_within.total_seconds()
        async with self._updates.hold(order_id, self.answer_within.total_seconds()):
            for attempt in range(UPDATE_ATTEMPTS):
                try:
                    return await self._update(order, parsed.event_id, payload)
                except RPCError as err:
                    # Not applied: the order was handing over to a new run just then (the same
                    # update, same id, goes to the new run), or the server is busy with others.
                    retry = err.status in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.RESOURCE_EXHAUSTED) or (
                        err.status == RPCStatusCode.UNAVAILABLE and "aborted" in err.message
                    )
                    pause = 0.1 * 2**attempt
                    if not retry or asyncio.get_running_loop().time() + pause > deadline:
                        raise
                    await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _update(self, order: str | NewOrder, update_id: str, payload: dict[str, Any]) -> EventOutcome:
        if isinstance(order, str):
            outcome: EventOutcome = await self.handle(order).execute_update(
                "apply_event", payload, id=update_id, result_type=EventOutcome, rpc_timeout=self.answer_within
            )
            return outcome
        start = WithStartWorkflowOperation(OrderWorkflow.run, OrderInput(order=order), **self._start(order))
        outcome = await self.client.execute_update_with_start_workflow(
            "apply_event",
            payload,
            id=update_id,
            start_workflow_operation=start,
            result_type=EventOutcome,
            rpc_timeout=self.answer_within,
        )
        return outcome

    async def resend_message(self, run_key: str, by: str) -> ResendOutcome:
        """Resends an unconfirmed message (its rule run's key), on ``by``'s decision; the
        order's timeline records it. Raises ``WorkflowUpdateFailedError`` (NotResent) saying why not."""
        order_id = run_key.split("/", 1)[0]
        outcome: ResendOutcome = await self.handle(order_id).execute_update(
            "resend_message", ResendRequest(run_key=run_key, by=by), result_type=ResendOutcome,
            rpc_timeout=timedelta(minutes=3),
        )  # fmt: skip
        return outcome

    async def skip_pause(self, order_id: str) -> str:
        """A test order's delays and Waits end now. Raises ``WorkflowUpdateFailedError``
        (NotATestOrder) for a real order."""
        answer: str = await self.handle(order_id).execute_update("skip_pause", result_type=str)
        return answer

    async def state(self, order_id: str) -> OrderView:
        return await self.handle(order_id).query(OrderWorkflow.view)

    async def send_to_orders(
        self, order_ids: list[str], event: Event | Mapping[str, Any], source: Source = "service"
    ) -> list[str]:
        """One event for several orders (about a customer: an e-mail, a call, a chat
        message...); answers the ones it reached (an order that has just ended is not).
        Each gets the same event id: a retried call is applied once per order."""
        parsed = parse_event(event, source)
        reached = []
        for order_id in order_ids:
            try:
                await self.send_event(order_id, parsed)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            reached.append(order_id)
        return reached

    async def list_orders(
        self,
        *,
        stage: str | None = None,
        pipeline_id: str | None = None,
        customer_id: str | None = None,
        outcome: str | None = None,
        test: bool = False,
    ) -> list[OrderSummary]:
        """Running orders by stage, pipeline, customer or outcome (``open``, ``success``,
        ``failure``), from Temporal's visibility (the search attributes): the real ones, or
        with ``test`` the test ones only."""
        clauses = ["WorkflowType = 'Order'", "ExecutionStatus = 'Running'"]
        if test:
            clauses.append(f"{search.ORDER_MODE.name} = {_quoted(search.TEST)}")
        wanted = {
            search.ORDER_STAGE: stage,
            search.ORDER_PIPELINE: pipeline_id,
            search.ORDER_CUSTOMER: customer_id,
            search.ORDER_OUTCOME: outcome,
        }
        clauses += [f"{key.name} = {_quoted(value)}" for key, value in wanted.items() if value is not None]
        found = []
        async for execution in self.client.list_workflows(" AND ".join(clauses)):
            attributes = execution.typed_search_attributes
            if not test and attributes.get(search.ORDER_MODE) == search.TEST:
                continue  # a test order is never listed (nor counted) with the real ones
            found.append(
                OrderSummary(
                    order_id=execution.id.removeprefix("order-"),
                    workflow_id=execution.id,
                    stage=attributes.get(search.ORDER_STAGE),
                    pipeline_id=attributes.get(search.ORDER_PIPELINE),
                    responsible_id=attributes.get(search.ORDER_RESPONSIBLE),
                    status=execution.status.name if execution.status else "UNKNOWN",
                )
            )
        return found


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
