"""Copying and moving rules and triggers, item by item: what goes keeps everything it had;
what cannot go is refused with its reason."""

from __future__ import annotations

from automation.copying import Item, copy_items
from automation.pipeline import parse_pipeline

SHOP = parse_pipeline("""
id: shop
title: Shop
stages:
  - id: new
    title: New
    rules:
      - {type: write_to_log, params: {message: one}}
      - type: send_email
        after_previous: true
        delay: {after: 1h}
        condition: {field: order.total, op: ">", value: 0}
        params: {subject: Thanks, body: Thanks}
      - {type: change_status, params: {stage: paid}}
  - {id: paid, title: Paid, triggers: [{type: payment}, {type: webhook, params: {code: abc}}]}
  - {id: done, title: Done, final: success}
""")
OTHER = parse_pipeline("""
id: other
title: Other
stages:
  - {id: start, title: Start}
  - {id: done, title: Done, final: success}
""")


def test_a_copied_rule_keeps_its_type_params_delay_condition_and_chaining() -> None:
    copied = copy_items(SHOP, [Item(kind="rule", stage="new", number=2)], OTHER, "start")
    assert copied.refused == [] and copied.source is None
    [rule] = copied.target.stage("start").rules
    original = SHOP.stage("new").rules[1]
    assert rule == original
    assert (rule.type, rule.after_previous, rule.delay, rule.condition) == (
        "send_email", True, original.delay, original.condition,
    )  # fmt: skip


def test_what_cannot_go_is_refused_item_by_item_and_the_rest_goes() -> None:
    items = [
        Item(kind="rule", stage="new", number=3),  # names stage 'paid', which OTHER lacks
        Item(kind="rule", stage="new", number=9),
        Item(kind="trigger", stage="paid", number=1),
        Item(kind="rule", stage="nowhere", number=1),
        Item(kind="rule", stage="new", number=1),
    ]
    copied = copy_items(SHOP, items, OTHER, "done")
    assert copied.refused == [
        "rule 3 of stage 'new': stages[1].rules[0].params: unknown stage 'paid'",
        "rule 9 of stage 'new': stage 'new' has 3 rule(s)",
        "rule 1 of stage 'nowhere': pipeline 'shop' has no stage 'nowhere'",
    ]
    assert [(i.kind, i.stage, i.number) for i in copied.went] == [("trigger", "paid", 1), ("rule", "new", 1)]
    assert [t.type for t in copied.target.stage("done").triggers] == ["payment"]
    assert [r.type for r in copied.target.stage("done").rules] == ["write_to_log"]
    assert copy_items(SHOP, [Item(kind="rule", stage="new", number=1)], OTHER, "gone").refused == [
        "rule 1 of stage 'new': pipeline 'other' has no stage 'gone'"
    ]


def test_a_move_is_a_copy_and_a_delete_of_what_went() -> None:
    within = copy_items(SHOP, [Item(kind="trigger", stage="paid", number=2)], SHOP, "done", move=True)
    assert within.source is None
    assert [t.type for t in within.target.stage("paid").triggers] == ["payment"]
    assert [t.type for t in within.target.stage("done").triggers] == ["webhook"]
    items = [Item(kind="rule", stage="new", number=1), Item(kind="rule", stage="new", number=3)]
    across = copy_items(SHOP, items, OTHER, "start", move=True)
    assert across.source is not None and len(across.refused) == 1  # the Change status to 'paid' stays
    assert [r.type for r in across.source.stage("new").rules] == ["send_email", "change_status"]
    assert [r.type for r in across.target.stage("start").rules] == ["write_to_log"]


def test_an_item_named_twice_goes_once() -> None:
    item = Item(kind="trigger", stage="paid", number=2)
    moved = copy_items(SHOP, [item, item], SHOP, "done", move=True)
    assert moved.refused == ["trigger 2 of stage 'paid': named twice; it goes once"]
    assert [t.type for t in moved.target.stage("done").triggers] == ["webhook"]
    assert [t.type for t in moved.target.stage("paid").triggers] == ["payment"]


def test_the_rules_left_behind_keep_their_chains() -> None:
    """Rule 1 began the chain of send_email (after the previous rule): moved away, it leaves
    send_email beginning the chain, not joining the chain of another rule."""
    moved = copy_items(SHOP, [Item(kind="rule", stage="new", number=1)], OTHER, "start", move=True)
    assert moved.source is not None
    left = moved.source.stage("new")
    assert [(r.type, r.after_previous) for r in left.rules] == [("send_email", False), ("change_status", False)]
    assert left.branches() == [[0], [1]]
