"""``orders catalog`` and ``orders lint``: the rule and trigger types as a store admin searches
them, and what the linter finds in a pipeline file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from starter import run


def test_the_catalog_prints_the_types_with_the_words_by_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["catalog", "sms", "customer"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Rules for customer communication:",
        "  Send SMS (`send_sms`): texts the customer (phone of a type, or the first) through the SMS provider; "
        "nothing without one",
        "      text: text, required; at most 200 characters after templating; order values allowed",
        "      provider: 'twilio', default \"twilio\"; the SMS provider (its account is in settings)",
        "      phone_type: text, default \"auto\"; mobile, work...; 'auto' = the first phone",
        "1 type(s) with 'sms customer'",
    ]
    assert run(["catalog", "--group", "triggers", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {entry["group"] for entry in found} == {"triggers"} and len(found) == 22


def test_lint_and_validate_print_each_finding_and_fail_on_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.yaml"
    stages = ("stages:\n  - id: new\n    title: New\n    rules:\n"
              "      - {type: wait}\n      - {type: write_to_log, params: {message: '{{ constants.shop }}'}}\n"
              "  - {id: done, title: Done, final: success, triggers: [{type: payment}]}\n")  # fmt: skip
    path.write_text("id: shop\ntitle: Shop\nconstants: {shop: Acme}\n" + stages)
    for command in ("lint", "validate"):
        assert run([command, str(path)]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"{path}: warning: stages[0].rules[0]: a Wait with no deadline (timeout): it waits for the customer "
            "for ever",
            f"{path}: pipeline 'shop' is valid (2 stages); 0 lint error(s), 1 warning(s)",
        ]
    path.write_text("id: shop\ntitle: Shop\n" + stages)  # the constant is no longer declared: an error of the file
    for command in ("lint", "validate"):
        assert run([command, str(path)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.splitlines() == [
            f"{path}: invalid pipeline",
            "  stages[0].rules[1]: constants.shop is not declared (constants: none)",
        ]
