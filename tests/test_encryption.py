"""Customer data encrypted in Temporal: the raw history of an order holds none of it, keys
rotate without making older payloads unreadable, and a payload no key can read says why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.order import workflow_id
from automation.pipeline import parse_pipeline
from config import Settings, with_payload_keys
from encryption import ENCODING, KEY_ID, EncryptionCodec, PayloadKeyError, PayloadKeys, encrypting_converter, new_key
from order_client import OrderClient
from tests.conftest import Mailbox, running_engine, seed
from tests.helpers import eventually, new_order, payment, ready_view
from worker import build_worker

PIPELINE = parse_pipeline("""
id: private
title: Private
stages:
  - id: new
    title: New
    rules:
      - type: send_email
        params: {subject: "Your order", body: "Dear {{ customer.first_name }} {{ customer.last_name }}, thank you."}
  - {id: paid, title: Paid, final: success, triggers: [{type: payment}]}
""")


def _payloads(history: History) -> list[Payload]:
    """Every payload of the engine's in the history (inputs, results, signals, updates,
    local activities' results...); not the search attributes (ids, in the clear for the Web
    UI's filters) nor the SDK's own notes: on each local activity (its type, attempt, time),
    and on an activity cancelled before it started."""
    found: list[Payload] = []

    def visit(message: object) -> None:
        if isinstance(message, Payload):
            if message.data != b'"ACTIVITY_ID_NOT_STARTED"':
                found.append(message)
            return
        for field, value in message.ListFields():  # type: ignore[attr-defined]
            if field.message_type is None or field.name == "search_attributes":
                continue
            if field.message_type.GetOptions().map_entry:
                values = [item for key, item in value.items() if (field.name, key) != ("details", "data")]
            elif hasattr(value, "ListFields"):
                values = [value]
            else:  # repeated
                values = list(value)
            for item in values:
                if hasattr(item, "ListFields"):
                    visit(item)

    visit(history)
    return found


async def test_an_orders_raw_history_holds_no_customer_data(
    dev_env: WorkflowEnvironment, deps: WorkerResources, smtp: Mailbox
) -> None:
    await seed(deps.engine, PIPELINE)
    order = new_order(PIPELINE.id)
    assert order.customer is not None
    async with running_engine(dev_env, deps) as engine:
        await engine.orders.create_order(order)
        await eventually(lambda: _mailed(smtp, "Dear Ada Lovelace, thank you."))
        await engine.orders.apply_event(order.order_id, payment())
        view = await ready_view(engine.orders, order.order_id)
        raw = await dev_env.client.get_workflow_handle(workflow_id(order.order_id)).fetch_history()
    assert view is not None and view.customer_id == order.customer.id  # read through the codec

    history = History(events=raw.events)
    secrets = [order.customer.last_name, order.customer.emails[0].value, order.customer.phones[0].value, "Dear Ada"]
    as_bytes = history.SerializeToString()
    assert [s for s in secrets if s.encode() in as_bytes] == []
    payloads = _payloads(history)
    assert len(payloads) > 10
    assert {p.metadata["encoding"] for p in payloads} == {ENCODING}
    assert {p.metadata[KEY_ID] for p in payloads} == {b"tests"}
    described = await dev_env.client.get_workflow_handle(workflow_id(order.order_id)).describe()
    assert described.typed_search_attributes  # ids only, in the clear for the Web UI's filters


async def _mailed(smtp: Mailbox, text: str) -> bool:
    return any(text in str(message) for message in smtp.messages)


async def test_after_a_key_rotation_a_running_order_goes_on(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """Started under one key, the order takes its next event from a worker whose newest key
    is another: the older payloads stay readable, the new ones use the new key."""
    await seed(deps.engine, PIPELINE)
    old, new = new_key("old"), new_key("new")
    order = new_order(PIPELINE.id)

    def client(keys: str) -> Client:
        service = dev_env.client.service_client
        return Client(
            service, namespace=dev_env.client.namespace, data_converter=encrypting_converter(PayloadKeys.parse(keys))
        )

    before, after = client(old), client(f"{new},{old}")
    task_queue = "rotation-" + order.order_id
    # The first worker's sticky queue lapses in a second: the event's task then reaches the
    # second worker at once, rather than after the default 10 s, the event's whole answer time.
    lapses = timedelta(seconds=1)
    async with build_worker(before, deps, task_queue=task_queue, sticky_queue_schedule_to_start_timeout=lapses):
        await OrderClient(before, task_queue=task_queue).create_order(order)
        await eventually(lambda: ready_view(OrderClient(before, task_queue=task_queue), order.order_id))
    async with build_worker(after, deps, task_queue=task_queue):
        orders = OrderClient(after, task_queue=task_queue)
        outcome = await orders.apply_event(order.order_id, payment())
        assert outcome.stage == "paid"
    raw = await dev_env.client.get_workflow_handle(workflow_id(order.order_id)).fetch_history()
    used = [p.metadata[KEY_ID] for p in _payloads(History(events=raw.events))]
    assert used[0] == b"old" and used[-1] == b"new" and set(used) == {b"old", b"new"}


async def test_a_payload_no_key_can_read_says_why() -> None:
    old, new = PayloadKeys.parse(new_key("a")), PayloadKeys.parse(new_key("b"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Ada"}')
    sealed = EncryptionCodec(old).encrypt(plain)
    assert b"Ada" not in sealed.SerializeToString()
    assert await EncryptionCodec(old).decode([sealed]) == [plain]
    assert await EncryptionCodec(old).decode([plain]) == [plain]  # recorded before encryption: as it is
    with pytest.raises(PayloadKeyError, match="encrypted with key 'a', which PAYLOAD_KEYS does not list"):
        await EncryptionCodec(new).decode([sealed])
    altered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(PayloadKeyError, match="that key 'a' cannot decrypt"):
        await EncryptionCodec(old).decode([altered])
    cut = Payload(metadata=sealed.metadata, data=sealed.data[:20])
    with pytest.raises(PayloadKeyError, match="a payload too short to be encrypted with key 'a'"):
        await EncryptionCodec(old).decode([cut])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"b"}, data=sealed.data)  # the id is bound too
    with pytest.raises(PayloadKeyError, match="that key 'b' cannot decrypt"):
        await EncryptionCodec(PayloadKeys.parse(f"{new_key('b')},{new_key('a')}")).decode([relabelled])


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("", "PAYLOAD_KEYS: no key (`id:base64 of 32 bytes`, the current one first)"),
        ("k1:c2hvcnQ=", "PAYLOAD_KEYS key 'k1': must be 32 bytes, base64-encoded"),
        ("k1:not base64!", "PAYLOAD_KEYS key 'k1': must be 32 bytes, base64-encoded"),
        ("a b:" + "A" * 43 + "=", "PAYLOAD_KEYS entry 1: its id must be 1-40 of A-Z a-z 0-9 _ . -"),
        (f"k1:{'A' * 43}=,k1:{'B' * 43}=", "PAYLOAD_KEYS key 'k1': listed twice"),
    ],
)
def test_keys_that_cannot_be_used_are_refused_saying_why(keys: str, problem: str) -> None:
    with pytest.raises(PayloadKeyError) as refused:
        PayloadKeys.parse(keys)
    assert str(refused.value) == problem


def test_a_kept_key_file_left_empty_is_refused_saying_where(tmp_path: Path) -> None:
    (tmp_path / "payload_keys").write_text("")
    with pytest.raises(ValueError, match="payload_keys is empty: remove it to have a new secret made"):
        with_payload_keys(Settings(data_dir=tmp_path), new_key)
    (tmp_path / "payload_keys").unlink()
    made = with_payload_keys(Settings(data_dir=tmp_path), new_key).payload_keys
    assert PayloadKeys.parse(made) and with_payload_keys(Settings(data_dir=tmp_path), new_key).payload_keys == made
    assert oct((tmp_path / "payload_keys").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["payload_keys"]  # no draft left
