"""Replays recorded histories (``tests/histories``, made by ``tests/record_histories.py``)
through today's workflow code: a change that would break running orders fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from automation.converter import data_converter
from workflows.order import OrderWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_the_corpus_covers_every_path_and_a_hand_over():
    names = {path.stem for path in HISTORIES}
    assert {"lifecycle-run1", "refusals-run1", "hand-over-run1", "hand-over-run2", "ping-pong-run1",
            "change-status-run1", "fail-child-delete-run1"} <= names  # fmt: skip


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path):
    history = WorkflowHistory.from_json(f"order-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"
