import re

from tests.rules.conftest import RunRule


async def test_generates_a_code_by_pattern_into_a_variable(run_rule: RunRule) -> None:
    result = await run_rule("generate_code", {"pattern": "ORD-####-@@-**", "variable": "order_number"})
    code = result.variables["order_number"]
    assert re.fullmatch(r"ORD-\d{4}-[A-Z]{2}-[A-Z0-9]{2}", code)


async def test_a_retried_run_generates_the_same_code(run_rule: RunRule) -> None:
    first = await run_rule("generate_code", {"pattern": "########"}, run_key="O-1/3/1")
    again = await run_rule("generate_code", {"pattern": "########"}, run_key="O-1/3/1")
    other = await run_rule("generate_code", {"pattern": "########"}, run_key="O-1/4/1")
    assert first.variables == again.variables
    assert first.variables != other.variables
