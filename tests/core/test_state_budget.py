"""The budget of ``automation/limits.py`` adds up: an order with every part at its limit
(the biggest order, pipeline, fields, variables, moving event, kept and unstored timeline,
remembered event ids) still hands over, feeds its rules and answers its query in well
under half a Temporal payload. Pure: no server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from automation import limits
from automation.converter import data_converter
from automation.events import seen_key
from automation.models import INSIDE, json_size
from automation.order import NewOrder
from automation.pipeline import Pipeline
from automation.rules import RuleInput
from automation.state import Branch, OrderInput, OrderState, PendingEvent, StageVisit
from automation.timeline import Timeline

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def _blob(size: int, build: Any) -> Any:
    """``build(pad)`` padded so that its JSON is ``size`` bytes."""
    base = json_size(build(""))
    return build("x" * (size - base))


def _biggest_pipeline() -> Pipeline:
    rule = {
        "type": "write_to_log",
        "title": "T" * limits.TITLE_CHARS,
        "params": {"message": "m" * 1000, "level": "info"},
    }
    stages: list[dict[str, Any]] = [{"id": f"s{i}", "title": "S" * limits.TITLE_CHARS} for i in range(limits.STAGES)]
    stages[0]["rules"] = [rule] * 40
    stages[-2]["final"], stages[-1]["final"] = "success", "failure"
    constants: dict[str, Any] = {}
    while True:  # constants until the pipeline is as big as a file may make it
        bigger = {**constants, f"c{len(constants)}": "v" * limits.CONSTANT_CHARS}
        definition = {"id": "p", "title": "P", "constants": bigger, "stages": stages}
        if (
            json_size(Pipeline.model_validate(definition, context=INSIDE).model_dump(mode="json"))
            > limits.PIPELINE_BYTES
        ):
            break
        constants = bigger
    pipeline = Pipeline.model_validate({"id": "p", "title": "P", "constants": constants, "stages": stages})
    assert json_size(pipeline.model_dump(mode="json")) > limits.PIPELINE_BYTES - limits.CONSTANT_CHARS - 20
    return pipeline


def _biggest_state() -> OrderState:
    order = NewOrder.model_validate(
        _blob(
            limits.ORDER_BYTES,
            lambda pad: NewOrder.model_validate(
                {"order_id": "o" * 100, "pipeline_id": "p", "fields": {"pad": pad}}, context=INSIDE
            ).model_dump(),
        )
    )
    pipeline = _biggest_pipeline()
    moving_event = _blob(limits.EVENT_BYTES, lambda pad: {"type": "webhook", "code": "c", "payload": {"pad": pad}})
    state = OrderState(
        order=order,
        pipeline=pipeline,
        responsible_id="r" * limits.ID_CHARS,
        fields=_blob(limits.FIELDS_BYTES, lambda pad: {"pad": pad}),
        variables=_blob(limits.VARIABLES_BYTES, lambda pad: {"pad": pad}),
        current=StageVisit(
            stage="s0",
            visit=10**6,
            entered_at=NOW,
            trigger=moving_event,
            branches=[
                Branch(
                    rules=[i],
                    ready_at=NOW,
                    due_at=NOW,
                    wait_deadline=NOW,
                    wait_started=True,
                    wait_outcome={"ended_by": "timeout", "reason": "r" * 200},
                )
                for i in range(40)
            ],
            outcomes=dict.fromkeys(range(40), "failed"),
        ),
        seen_event_ids=[seen_key("e" * limits.EVENT_ID_CHARS + str(i)) for i in range(limits.SEEN_EVENT_IDS)],
        pending_events=[PendingEvent(raw=_blob(limits.CARRIED_EVENTS_BYTES, lambda pad: {"pad": pad}))],
        automatic_moves=[NOW] * 10,
    )
    timeline = Timeline(state)
    event = _blob(limits.EVENT_BYTES, lambda pad: {"event_id": "e", "type": "webhook", "payload": {"pad": pad}})
    message = "m" * (limits.TIMELINE_MESSAGE_CHARS * 2)  # cut to the limit
    for _ in range(limits.TIMELINE_KEPT + 50):  # stored ones, the workflow keeps the latest
        timeline.add(NOW, "event_received", message, {"event": event})
    timeline.stored(state.next_seq - 1)
    while not timeline.backlogged:  # unstored ones, up to the backlog that makes the order wait
        timeline.add(NOW, "event_received", message, {"event": event})
    for _ in range(limits.RULES_PER_STAGE):  # and what one more event may add: its stage's rules stopped
        timeline.add(NOW, "rule_skipped", message, {})
    return state


def _payload_size(value: Any) -> int:
    return len(data_converter.payload_converter.to_payloads([value])[0].data)


def test_the_biggest_state_hands_over_in_under_half_a_payload() -> None:
    state = _biggest_state()
    size = _payload_size(OrderInput(order=state.order, state=state))
    assert size < limits.STATE_BUDGET_BYTES <= limits.TEMPORAL_PAYLOAD_BYTES // 2, size
    # and it reads back (as the next run reads it) to the same state
    payload = data_converter.payload_converter.to_payloads([OrderInput(order=state.order, state=state)])[0]
    assert data_converter.payload_converter.from_payload(payload, OrderInput).state == state


def test_the_biggest_rule_input_and_query_answer_fit_as_well() -> None:
    state = _biggest_state()
    rule_input = RuleInput(
        order_id=state.order.order_id,
        run_key="k" * 200,
        stage="s0",
        rule_index=0,
        rule_type="write_to_log",
        params=state.pipeline.stages[0].rules[0].params,
        values={**state.values(), "wait": {"reason": "r" * 200}},
        store_write="w" * limits.CARRIED_WRITE_BYTES,  # the biggest store write it carries
    )
    assert _payload_size(rule_input) < limits.STATE_BUDGET_BYTES
    assert _payload_size(state.timeline) + _payload_size(state.values()) < limits.STATE_BUDGET_BYTES


def test_stored_entries_keep_only_small_data_and_messages_are_cut() -> None:
    state = _biggest_state()
    stored = [entry for entry in state.timeline if entry.seq <= state.flushed_seq]
    assert len(stored) == limits.TIMELINE_KEPT
    assert all(json_size(entry.data) <= limits.TIMELINE_KEPT_DATA_BYTES for entry in stored)
    assert stored[-1].data["event"] == {"event_id": "e", "type": "webhook"}
    assert all(len(entry.message) == limits.TIMELINE_MESSAGE_CHARS for entry in state.timeline)
    assert state.timeline[0].message.endswith("… (cut here)")
