"""``orders catalog``: the rule and trigger types as a store admin searches them."""

from __future__ import annotations

import json

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
