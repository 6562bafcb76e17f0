"""What a new version of a pipeline changes, as an admin reads it."""

from __future__ import annotations

from automation.pipeline import Pipeline, parse_pipeline
from automation.versions import changes, content_hash, preview, stage_move_problems

HEADER = "\nid: shop\ntitle: Shop\nstages:\n"
NEW = """  - id: new
    title: New
    rules:
      - {type: write_to_log, params: {message: one}}
      - {type: write_to_log, params: {message: two}}
"""
PAID = """  - id: paid
    title: Paid
    triggers: [{type: payment}]
    rules: [{type: send_email, params: {subject: Paid, body: Thanks}}]
"""
DONE = "  - {id: done, title: Done, final: success}\n"
BEFORE = HEADER + NEW + PAID + DONE


def _edited(*replacements: tuple[str, str]) -> Pipeline:
    text = BEFORE
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return parse_pipeline(text)


def _lines(before: Pipeline | None, after: Pipeline) -> list[str]:
    return [change.line() for change in changes(before, after)]


def test_the_same_content_has_the_same_hash_and_no_change() -> None:
    assert content_hash(parse_pipeline(BEFORE)) == content_hash(parse_pipeline(BEFORE + "\n# a comment\n"))
    assert changes(parse_pipeline(BEFORE), parse_pipeline(BEFORE)) == []
    assert content_hash(_edited(("title: Shop", "title: Shop 2"))) != content_hash(parse_pipeline(BEFORE))


def test_a_first_version_adds_every_stage() -> None:
    assert _lines(None, parse_pipeline(BEFORE)) == [
        "+ stage 'new': 'New', 0 trigger(s), 2 rule(s)",
        "+ stage 'paid': 'Paid', 1 trigger(s), 1 rule(s)",
        "+ stage 'done': 'Done', 0 trigger(s), 0 rule(s)",
    ]


def test_a_rule_inserted_at_the_top_is_one_rule_added_not_every_rule_changed() -> None:
    after = _edited(("    rules:\n      - {type: write_to_log, params: {message: one}}",
                     "    rules:\n      - {type: write_to_log, params: {message: zero}, title: First}\n"
                     "      - {type: write_to_log, params: {message: one}}"))  # fmt: skip
    assert _lines(parse_pipeline(BEFORE), after) == ["+ stage 'new', rule 1 (write_to_log: First)"]


def test_a_changed_rule_names_the_fields_that_changed() -> None:
    after = _edited(("{subject: Paid, body: Thanks}", "{subject: Paid!, body: Thanks}"),
                    ("rules: [{type: send_email", "rules: [{type: send_email, delay: {after: 1h}"))  # fmt: skip
    assert _lines(parse_pipeline(BEFORE), after) == ["~ stage 'paid', rule 1 (send_email): delay, params.subject"]


def test_triggers_and_stages_added_removed_changed_and_moved() -> None:
    after = parse_pipeline("""
id: shop
title: Shop
constants: {shop_name: Acme}
stages:
  - id: new
    title: New orders
    triggers: [{type: form_submitted}]
    rules:
      - {type: write_to_log, params: {message: one}}
  - {id: done, title: Done, final: success}
  - {id: lost, title: Lost, final: failure}
""")
    assert _lines(parse_pipeline(BEFORE), after) == [
        "~ pipeline: constants.shop_name",
        "~ stage 'new': title",
        "+ stage 'new', trigger 1 (form_submitted)",
        "- stage 'new', rule 2 (write_to_log)",
        "+ stage 'lost': 'Lost', 0 trigger(s), 0 rule(s)",
        "- stage 'paid': 'Paid', 1 trigger(s), 1 rule(s)",
    ]


def test_a_stage_put_elsewhere_is_moved() -> None:
    inserted = parse_pipeline(HEADER + NEW + "  - {id: other, title: Other}\n" + PAID + DONE)
    assert _lines(parse_pipeline(BEFORE), inserted) == ["+ stage 'other': 'Other', 0 trigger(s), 0 rule(s)"]
    swapped = parse_pipeline(HEADER + PAID + NEW + DONE)
    assert _lines(parse_pipeline(BEFORE), swapped) == ["> stage 'paid': now position 1"]


RENAMED = BEFORE.replace("  - id: paid\n    title: Paid", "  - id: settled\n    title: Settled")


def test_a_removed_stage_with_orders_in_it_needs_a_stage_move() -> None:
    before, after = parse_pipeline(BEFORE), parse_pipeline(RENAMED)
    assert stage_move_problems(before, after, {}, {"paid": 3, "new": 1}) == [
        "stage 'paid' is removed but 3 order(s) are in it: say where they go (a stage move paid=STAGE)"
    ]
    assert stage_move_problems(before, after, {}, {"new": 1}) == []  # nobody there: no move needed
    assert stage_move_problems(before, after, {"paid": "settled"}, {"paid": 3}) == []
    assert stage_move_problems(before, after, {"paid": "nowhere", "new": "done", "gone": "done"}, {"paid": 3}) == [
        "stage move paid=nowhere: the new version has no stage 'nowhere'",
        "stage move new=done: 'new' is a stage of the new version too",
        "stage move gone=done: 'gone' is not a stage of the version before",
    ]


def test_a_preview_says_how_each_change_reaches_the_running_orders() -> None:
    after = parse_pipeline(RENAMED.replace("message: one", "message: uno"))
    occupied = {"new": 2, "paid": 3, "done": 5}
    assert [(r.change.line(), r.orders, r.how) for r in preview(parse_pipeline(BEFORE), after, occupied, {})] == [
        ("~ stage 'new', rule 1 (write_to_log): params.message", 2,
         "orders entering 'new' from now on run it; the 2 in it now finish it under their version"),
        ("+ stage 'settled': 'Settled', 1 trigger(s), 1 rule(s)", 10,
         "each of the 10 running orders takes it as it next enters a stage"),
        ("- stage 'paid': 'Paid', 1 trigger(s), 1 rule(s)", 3,
         "the 3 in it now finish it under their version; an order that would enter it stays on its version for it"),
    ]  # fmt: skip
    moved = preview(parse_pipeline(BEFORE), after, occupied, {"paid": "settled"})[-1]
    assert moved.how.endswith("an order that would enter it goes to 'settled'")
