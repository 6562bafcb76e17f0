"""Test mode's pure parts: scenario files refused with their place, expectations checked
against an order, the trigger verdicts of a test order's event, the test log's text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from automation.events import parse_event
from automation.matching import match_trigger
from automation.models import json_size
from automation.pipeline import parse_pipeline
from automation.scenario import Expect, RecordedMessage, ScenarioError, load_scenario, unmet
from automation.state import OrderView, RuleStatus, TimelineEntry
from automation.testlog import bounded, lines

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
SHOP = parse_pipeline("""
id: shop
title: Shop
stages:
  - {id: new, title: New, triggers: [{type: payment, title: Small, allow_back: true,
     condition: {field: event.amount, op: "<", value: 10}}]}
  - id: paid
    title: Paid
    triggers: [{type: payment, condition: {field: event.amount, op: ">=", value: 10}}]
  - {id: done, title: Done, final: success, triggers: [{type: payment}]}
""")


def test_a_scenario_file_is_refused_with_each_problem_in_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("steps:\n  - {at: 2d, event: {type: paymnt}}\n  - {at: 1d, expect: {stage: paid, colour: red}}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(str(path))
    assert refused.value.problems[0].startswith("steps[0].event: type: unknown event type 'paymnt'")
    assert refused.value.problems[1:] == ["steps[1].expect.colour: unknown field"]
    path.write_text("steps:\n  - {at: 2d}\n  - {at: 1d}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(str(path))
    assert refused.value.problems == ["step 2 is at 1d, before the step above it (2d)"]


def _view() -> OrderView:
    rules = [RuleStatus(index=0, type="send_email", title="Welcome", status="done")]
    return OrderView(order_id="T-1", test=True, pipeline_id="shop", stage="new", stage_title="New",
                     responsible_id=None, customer_id=None, fields={"total": 12}, variables={"tries": 1},
                     rules=rules, pending_events=0, runs=1, timeline=[])  # fmt: skip


def test_each_unmet_expectation_is_named_with_what_was_found() -> None:
    expect = Expect.model_validate({
        "stage": "paid", "variables": {"tries": 2}, "fields": {"total": 12},
        "rules": {"Welcome": "failed", "Nope": "done"},
        "messages": [{"channel": "email", "to": "ada@", "contains": "bye"}], "timeline": ["took the event"],
    })  # fmt: skip
    message = RecordedMessage(channel="email", recipient="ada@example.com", subject="Hello Ada", body="Welcome")
    entry = TimelineEntry(seq=1, at=NOW, kind="order_created", stage="new", message="order created")
    assert unmet(expect, _view(), [message], [entry]) == [
        "expect.stage: wanted 'paid', the order is at 'new'",
        "expect.variables.tries: wanted 2, it is 1",
        "expect.rules.Welcome: wanted failed, it is done",
        "expect.rules.Nope: no rule of that title at stage 'new'",
        "expect.messages[0].contains: 'bye' does not match the email to ada@example.com ('Hello Ada')",
        "expect.timeline: no entry contains 'took the event'",
    ]
    assert unmet(Expect(messages=2), _view(), [message], []) == ["expect.messages: wanted 2, 1 recorded"]
    assert unmet(Expect(stage="new", variables={"tries": 1}, messages=1), _view(), [message], []) == []


def test_a_test_order_hears_what_every_trigger_of_the_type_made_of_the_event() -> None:
    event = parse_event({"event_id": "e", "type": "payment", "occurred_at": NOW.isoformat(),
                         "data": {"amount": 20, "currency": "EUR"}}, "service")  # fmt: skip
    decision = match_trigger(SHOP, "new", event, {"event": event.values()}, explain=True)
    assert decision.target == "paid"
    assert decision.verdicts == [
        "Small on 'new': turned it down, its condition does not hold (event.amount < 10 (event.amount is 20.0): "
        "does not hold)",
        "Payment on 'paid': accepted it",
        "Payment on 'done': not tried, an earlier candidate took the event",
    ]
    quick = match_trigger(SHOP, "new", event, {"event": event.values()})  # a real order: no explaining, no more tries
    assert [verdict.split(":")[0] for verdict in quick.verdicts] == ["Small on 'new'", "Payment on 'paid'"]


def test_the_test_log_reads_a_rules_notes_as_lines() -> None:
    notes = {"ready_at": "2026-12-03T10:00:00+00:00", "delay": "after 2d",
             "due_at": "2026-12-05T10:00:00+00:00", "started_at": "2026-12-05T10:00:01+00:00",
             "condition": {"text": "order.total > 100", "holds": True,
                           "compared": ["order.total > 100 (order.total is 120): holds"]},
             "read": {"constants.shop": "Acme"}, "changed": {"variables.code": [None, "A-1"]}}  # fmt: skip
    entry = TimelineEntry(seq=3, at=NOW, kind="rule_finished", stage="new", message="rule 1 (Code): finished",
                          data={"test": notes})  # fmt: skip
    assert lines([entry]) == [
        "2026-12-03 10:00:00 [new] rule 1 (Code): finished",
        "    ready 2026-12-03 10:00:00; delay after 2d; due 2026-12-05 10:00:00; started 2026-12-05 10:00:01",
        "    condition order.total > 100: met",
        "      order.total > 100 (order.total is 120): holds",
        '    read: constants.shop = "Acme"',
        '    changed: variables.code: null -> "A-1"',
    ]


def test_expected_values_are_compared_as_json_true_is_not_1() -> None:
    view = _view().model_copy(update={"variables": {"tries": 1, "due": "2026-12-05", "ratio": 2.0}})
    expect = Expect.model_validate({"variables": {"tries": True, "due": date(2026, 12, 5), "ratio": 2}})
    assert unmet(expect, view, [], []) == ["expect.variables.tries: wanted true, it is 1"]


def test_a_test_orders_notes_stay_small_however_big_the_condition() -> None:
    notes = bounded({"condition": {"text": "x" * 100_000, "compared": [f"clause {i}" * 50 for i in range(1000)]}})
    assert json_size(notes) < 16_000
    assert len(notes["condition"]["compared"]) == 40 and notes["condition"]["text"].endswith("…")
