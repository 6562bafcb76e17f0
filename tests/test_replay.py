"""Replays recorded histories (``tests/histories``, made by ``tests/record_histories.py``)
through today's workflow code: a change that would break running orders fails here."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from automation.order import workflow_id
from encryption import EncryptionCodec, PayloadKeys
from tests.conftest import PAYLOAD_KEYS
from tests.conftest import data_converter as test_converter
from workflows.order import OrderWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_the_corpus_covers_every_path_and_a_hand_over() -> None:
    names = {path.stem for path in HISTORIES}
    assert {"lifecycle-run1", "refusals-run1", "hand-over-run1", "hand-over-run2", "ping-pong-run1",
            "change-status-run1", "fail-child-delete-run1"} <= names  # fmt: skip
    # Recorded today (a versioned run: no patch marker), under the limits before versions, and
    # before the limits: every kind of order may be running.
    folder = HISTORIES[0].parent
    assert _patches((folder / "lifecycle-run1.json").read_text()) == set()
    assert "limits-2026-12" in _patches((folder / "lifecycle-v6-run1.json").read_text())
    assert "limits-2026-12" not in _patches((folder / "lifecycle-v5-run1.json").read_text())
    # Rule and trigger conditions reading constants, recorded when only rules fetched an admin's.
    assert "condition-constants-now" in _patches((folder / "admin-constants-run1.json").read_text())
    # Stage entries 2, 2 and 6 s apart, recorded under workflow version 4 (a check at each: its
    # orders knew their version for a second), 5 (one, at the last: for 5 s) and today's (none:
    # versions are announced, an order asks after a minute otherwise).
    assert {"version-window-v1-run1", "version-window-v2-run1", "version-window-run1"} <= names
    # A version announced to an order of workflow version 5, whose code set the signal aside:
    # it replays without asking (today's order asks).
    assert {"announced-v1-run1", "announced-run1"} <= names
    # Recorded by the fault suite: under its locked store, the version check at a stage entry timed out.
    assert "version-check-timed-out-run1" in names


def _patches(recorded: str) -> set[str]:
    """The ids of the patches (``workflow.patched``) a history took."""
    found = set()
    for event in json.loads(recorded)["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == "core_patch":
            [payload] = marker["details"]["patch-data"]["payloads"]
            found.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def _workflow_id(recorded: str) -> str:
    """The order's workflow id, from the input its history starts with (the order's id)."""
    started = json.loads(recorded)["events"][0]["workflowExecutionStartedEventAttributes"]
    payload = EncryptionCodec(PayloadKeys.parse(PAYLOAD_KEYS)).decrypt(
        json_format.ParseDict(started["input"]["payloads"][0], Payload())
    )
    order_id = json.loads(payload.data)["order"]["order_id"]
    return workflow_id(order_id)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    recorded = path.read_text()
    history = WorkflowHistory.from_json(_workflow_id(recorded), recorded)
    # Histories recorded by the fault suite are encrypted with the tests' key; the others are plain.
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=test_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"
