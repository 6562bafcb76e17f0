import pytest
from temporalio.exceptions import ApplicationError

from tests.rules.conftest import RunRule


async def test_sets_a_variable_from_a_template_or_by_arithmetic_on_its_value(run_rule: RunRule) -> None:
    result = await run_rule("set_variable", {"variable": "total", "value": "{{ order.total }}"}, order={"total": 12})
    assert result.variables == {"total": "12"}  # text: the order reads it as the declared type
    counted = await run_rule("set_variable", {"variable": "count", "operation": "add", "by": 1}, variables={"count": 2})
    assert counted.variables == {"count": 3}
    due = await run_rule(
        "set_variable",
        {"variable": "pay_by", "value": "{{ order.ordered_on }}", "operation": "add", "by": "{{ constants.days }}d"},
        order={"ordered_on": "2026-12-30"},
        constants={"days": 3},
    )
    assert due.variables == {"pay_by": "2027-01-02"}


async def test_arithmetic_that_cannot_be_done_fails_the_rule_at_once_saying_why(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("set_variable", {"variable": "count", "operation": "divide", "by": 0}, variables={"count": 2})
    assert refused.value.non_retryable
    assert refused.value.message == "variables.count: cannot divide by zero"
