"""Conditions compare typed values: numbers as numbers, dates as dates, booleans as booleans."""

from __future__ import annotations

from typing import Any

import pytest

from automation.conditions import Condition

ORDER = {
    "order": {
        "total": 120.5,
        "currency": "EUR",
        "paid": False,
        "tags": ["gift", "express"],
        "delivery_date": "2026-12-01T10:00:00+00:00",
        "note": "",
        "count": "7",
    }
}


@pytest.mark.parametrize(
    ("clause", "holds"),
    [
        ({"field": "order.total", "op": ">", "value": 100}, True),
        ({"field": "order.total", "op": ">", "value": "100"}, True),
        ({"field": "order.count", "op": ">", "value": 10}, False),  # "7" is a number here, not text
        ({"field": "order.total", "op": "between", "value": [100, 200]}, True),
        ({"field": "order.currency", "op": "=", "value": "EUR"}, True),
        ({"field": "order.currency", "op": "in", "value": ["USD", "GBP"]}, False),
        ({"field": "order.currency", "op": "not in", "value": ["USD", "GBP"]}, True),
        ({"field": "order.paid", "op": "=", "value": "false"}, True),
        ({"field": "order.paid", "op": "!=", "value": True}, True),
        ({"field": "order.tags", "op": "contains", "value": "gift"}, True),
        ({"field": "order.currency", "op": "contains", "value": "eu"}, True),
        ({"field": "order.currency", "op": "not contains", "value": "usd"}, True),
        ({"field": "order.delivery_date", "op": "<", "value": "2026-12-02"}, True),
        ({"field": "order.delivery_date", "op": ">", "value": "2026-12-01T10:30:00+01:00"}, True),
        ({"field": "order.note", "op": "empty"}, True),
        ({"field": "order.missing", "op": "empty"}, True),
        ({"field": "order.missing", "op": "=", "value": 1}, False),
        ({"field": "order.missing", "op": "!=", "value": 1}, True),
        ({"field": "order.total", "op": "not empty"}, True),
    ],
)
def test_clause(clause: dict[str, Any], holds: bool) -> None:
    assert Condition.model_validate(clause).holds(ORDER) is holds


def test_groups_are_or_of_and() -> None:
    condition = Condition.model_validate(
        {
            "any": [
                [{"field": "order.total", "op": ">", "value": 1000}, {"field": "order.paid", "op": "=", "value": True}],
                {"field": "order.currency", "op": "=", "value": "EUR"},
            ]
        }
    )
    assert condition.holds(ORDER)
    assert str(condition) == "order.total > 1000 and order.paid = True or order.currency = 'EUR'"
    assert not condition.holds({"order": {"currency": "USD", "total": 2000, "paid": False}})


def test_a_list_is_one_and_group() -> None:
    condition = Condition.model_validate(
        [{"field": "order.total", "op": ">", "value": 100}, {"field": "order.paid", "op": "=", "value": True}]
    )
    assert not condition.holds(ORDER)
