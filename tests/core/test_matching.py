"""Which trigger an event sets off (see automation/matching.py for the rule)."""

from datetime import UTC, datetime
from typing import Any

from automation.events import Event
from automation.matching import TriggerDecision, match_trigger
from automation.pipeline import parse_pipeline

PIPELINE = parse_pipeline("""
id: p
title: P
stages:
  - id: new
    title: New
    triggers:
      - {type: email_link_clicked, params: {url: "https://shop.example/offer"}, allow_back: true}
  - id: interested
    title: Interested
    triggers:
      - {type: email_link_clicked, params: {url: "https://shop.example/"}}
  - id: big
    title: Big order
    triggers:
      - type: payment
        condition: {field: event.amount, op: ">=", value: 1000}
  - id: paid
    title: Paid
    triggers:
      - {type: payment}
      - {type: call_incoming, params: {line: sales}}
  - id: done
    title: Done
    final: success
""")


def _event(type: str, **data: Any) -> Event:
    return Event(event_id="e", type=type, data=data, occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def _target(current: str, event: Event) -> TriggerDecision:
    return match_trigger(PIPELINE, current, event, {"order": {}, "event": event.values()})


def test_the_earliest_stage_whose_condition_holds_wins() -> None:
    assert _target("new", _event("payment", amount=5000, currency="EUR")).target == "big"
    assert _target("new", _event("payment", amount=10, currency="EUR")).target == "paid"


def test_parameters_filter_the_event() -> None:
    assert _target("new", _event("call_incoming", line="support")).target is None
    assert _target("new", _event("call_incoming", line="sales")).target == "paid"


def test_a_link_matches_by_prefix_and_moving_back_needs_permission() -> None:
    click = _event("email_link_clicked", url="https://shop.example/offer?id=1")
    assert _target("paid", click).target == "new"  # allowed back, and earliest
    other = _event("email_link_clicked", url="https://shop.example/cart")
    decision = _target("paid", other)
    assert decision.target is None
    assert decision.refused == ["E-mail link clicked on 'interested' would move the order back"]
    assert _target("new", other).target == "interested"


def test_an_event_with_a_nul_character_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="the event must not contain NUL characters"):
        Event(event_id="e\x00", type="visit", occurred_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_candidates_that_turn_the_event_down_say_why() -> None:
    decision = _target("new", _event("call_incoming", line="support"))
    assert decision.not_matched == ["Incoming call on 'paid': its parameters (line='sales') do not match the event"]
    small = _target("new", _event("payment", amount=10, currency="EUR"))
    assert small.not_matched == ["Payment on 'big': its condition does not hold (event.amount >= 1000)"]


def test_a_trigger_condition_reads_the_order_too() -> None:
    pipeline = parse_pipeline("""
id: p
title: P
stages:
  - {id: new, title: New}
  - id: big
    title: Big order paid
    triggers:
      - type: payment
        condition: [{field: order.total, op: ">=", value: 500}, {field: event.currency, op: "=", value: EUR}]
  - {id: paid, title: Paid, triggers: [{type: payment}]}
  - {id: done, title: Done, final: success}
""")
    pay = _event("payment", amount=10, currency="EUR")
    for total, target in ((800, "big"), (80, "paid")):
        values = {"order": {"total": total}, "event": pay.values()}
        assert match_trigger(pipeline, "new", pay, values).target == target
