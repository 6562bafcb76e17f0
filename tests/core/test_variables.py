"""Declared variables and constants: values read as their type, the file's checks of what
templates and conditions name, and the Set variable rule's arithmetic. Pure: no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from automation.order import NewOrder
from automation.pipeline import Pipeline, PipelineError, parse_pipeline
from automation.rules import RuleResult, result_problem
from automation.state import OrderState, StageVisit
from automation.variables import Declaration, calculate, types_of
from automation.versions import content_hash

HEAD = "id: shop\ntitle: Shop\n"
TAIL = "  - {id: done, title: Done, final: success, triggers: [{type: shipped}]}\n"


def pipeline(declarations: str, rules: str = "") -> Pipeline:
    return parse_pipeline(HEAD + declarations + "stages:\n  - id: new\n    title: New\n" + rules + TAIL, "test.yaml")


def problems(declarations: str, rules: str = "") -> list[str]:
    with pytest.raises(PipelineError) as refused:
        pipeline(declarations, rules)
    return refused.value.problems


@pytest.mark.parametrize(
    ("kind", "given", "read"),
    [
        ("string", "Ada", "Ada"),
        ("string", 12, "12"),
        ("number", "12.5", 12.5),
        ("number", "12", 12),
        ("number", 3, 3),
        ("integer", "7", 7),
        ("integer", 7.0, 7),
        ("integer", "123456789012345678", 123456789012345678),  # exactly, not through a float
        ("number", "-0.5e2", -50.0),
        ("boolean", "True", True),
        ("date", "2026-12-03", "2026-12-03"),
        ("date", "2026-12-03T10:00:00+01:00", "2026-12-03"),
        ("datetime", "2026-12-03T10:00:00+01:00", "2026-12-03T10:00:00+01:00"),
        ("employee", "emp-sales", "emp-sales"),
    ],
)
def test_a_value_is_read_as_its_type(kind: str, given: object, read: object) -> None:
    assert Declaration.model_validate({"type": kind}).read(given) == read


@pytest.mark.parametrize(
    ("kind", "given", "message"),
    [
        ("number", "lots", "'lots' is not a number"),
        ("number", "1_000", "'1_000' is not a number"),
        ("integer", "1234567890123456789", "at most 18 digits"),
        ("number", 10**30, "at most 18 digits"),
        ("number", "nan", "'nan' is not a number"),
        ("number", True, "True is not a number"),
        ("integer", 2.5, "2.5 is not a whole number"),
        ("boolean", "yes", "'yes' is not true or false"),
        ("date", "03/12/2026", "'03/12/2026' is not a date (YYYY-MM-DD)"),
        ("datetime", "2026-12-03T10:00:00", "is not a date and time with its offset"),
        ("employee", "two words", "'two words' is not an employee id"),
        ("string", "x" * 2001, "at most 2000 characters"),
        ("string", ["a"], "['a'] is not a text"),
    ],
)
def test_a_value_not_of_its_type_is_refused_saying_why(kind: str, given: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Declaration.model_validate({"type": kind}).read(given)


def test_a_list_holds_values_of_its_type() -> None:
    dates = Declaration.model_validate({"type": "date", "multiple": True})
    assert dates.type_name == "list of date"
    assert dates.read(["2026-12-24", "2026-12-31"]) == ["2026-12-24", "2026-12-31"]
    assert dates.read('["2026-12-24"]') == ["2026-12-24"]
    assert dates.read_text("2026-12-24, 2026-12-31") == ["2026-12-24", "2026-12-31"]
    with pytest.raises(ValueError, match="a list of date is a list: '2026-12-24' is not one"):
        dates.read("2026-12-24")
    with pytest.raises(ValueError, match="'soon' is not a date"):
        dates.read(["2026-12-24", "soon"])


def test_declarations_in_a_file_are_checked_with_their_place() -> None:
    assert problems("variables: {count: {type: integer, default: many}, when: timestamp}\n") == [
        "variables.count: 'many' is not a whole number",
        "variables.when.type: input should be 'string', 'number', 'integer', 'boolean', 'date', 'datetime' or "
        "'employee'",
    ]
    assert problems("constants: {open_on: {type: date, default: tomorrow}, tags: [a, b]}\n") == [
        "constants.open_on: 'tomorrow' is not a date (YYYY-MM-DD)",
        "constants.tags: a constant is a text, a number, true or false, empty, or a declaration with a type",
    ]


def test_a_type_alone_declares_a_variable_and_a_plain_value_a_constant() -> None:
    shop = pipeline("constants: {name: Acme, free_over: 50}\nvariables: {code: string}\n")
    assert shop.variables["code"] == Declaration(type="string")
    assert shop.constant("free_over").type_name == "number"
    assert shop.constant_values() == {"name": "Acme", "free_over": 50}


def test_undeclared_names_in_templates_and_conditions_are_file_errors_with_their_place() -> None:
    rules = (
        "    triggers: [{type: payment, condition: {field: variables.vip, op: '=', value: true}}]\n"
        "    rules:\n"
        "      - {type: write_to_log, params: {message: '{{ constants.shop_nmae }} {{ variables.count }}'}}\n"
        "      - {type: write_to_log, condition: {field: variables.code, op: empty}, params: {message: x}}\n"
    )
    assert problems("constants: {shop_name: Acme}\nvariables: {count: integer}\n", rules) == [
        "stages[0].triggers[0]: variables.vip is not declared (variables: count) and no rule sets it",
        "stages[0].rules[0]: constants.shop_nmae is not declared (constants: shop_name)",
        "stages[0].rules[1]: variables.code is not declared (variables: count) and no rule sets it",
    ]


def test_a_variable_a_rule_sets_counts_as_declared_but_set_variable_needs_a_declaration() -> None:
    rules = (
        "    rules:\n"
        "      - {type: generate_code, params: {pattern: '####', variable: code}}\n"
        "      - {type: write_to_log, after_previous: true, params: {message: '{{ variables.code }}'}}\n"
    )
    assert pipeline("", rules).stages[0].rules[1].type == "write_to_log"
    set_undeclared = "    rules: [{type: set_variable, params: {variable: total, value: 1}}]\n"
    assert problems("", set_undeclared) == [
        "stages[0].rules[0].params: variables.total is not declared: declare it with its type under variables:"
    ]


def test_a_pipeline_without_variables_has_the_content_hash_it_had_before_they_existed() -> None:
    shop = pipeline("constants: {name: Acme}\n")
    assert "variables" not in shop.model_dump(mode="json")
    assert content_hash(shop) == content_hash(Pipeline.model_validate(shop.model_dump(mode="json")))
    declared = pipeline("variables: {count: {type: integer, default: 0}}\n")
    assert declared.model_dump(mode="json")["variables"]["count"]["default"] == 0


def test_the_set_variable_rule_needs_by_for_arithmetic_and_nothing_else() -> None:
    rule = "    rules: [{type: set_variable, params: {variable: count, operation: add}}]\n"
    assert problems("variables: {count: integer}\n", rule) == ["stages[0].rules[0].params: add needs 'by': what to add"]


@pytest.mark.parametrize(
    ("start", "operation", "by", "result"),
    [
        (2, "add", 1, 3),
        ("2.5", "multiply", "2", 5.0),
        (10, "divide", 4, 2.5),
        (10, "subtract", "12", -2),
        ("2026-12-30", "add", "3d", "2027-01-02"),
        ("2026-12-30", "subtract", 1, "2026-12-29"),
        ("2026-12-03T10:00:00+00:00", "add", "1d12h", "2026-12-04T22:00:00+00:00"),
        ("Ada", "set", None, "Ada"),
    ],
)
def test_set_variable_does_simple_arithmetic_on_numbers_and_dates(
    start: object, operation: str, by: object, result: object
) -> None:
    assert calculate(start, operation, by) == result  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "operation", "by", "message"),
    [
        (1, "divide", 0, "cannot divide by zero"),
        (None, "add", 1, "nothing to add: the value it starts from is empty"),
        ("Ada", "add", 1, "the value it starts from is not a number, a date or a date and time: 'Ada'"),
        ("2026-12-03", "multiply", 2, "a date can be moved by adding or subtracting a duration, not by multiply"),
        ("2026-12-03", "add", "12h", "a date moves by whole days, not by 12:00:00"),
        ("2026-12-03", "add", "soon", "'by' is not a number, a date or a date and time: 'soon'"),
        (10**17, "multiply", 10**3, "the result is too large"),
    ],
)
def test_arithmetic_that_cannot_be_done_says_why(start: object, operation: str, by: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        calculate(start, operation, by)  # type: ignore[arg-type]


def test_an_order_refuses_a_rule_result_not_of_the_variables_type() -> None:
    shop = pipeline("variables: {count: integer}\n")
    visit = StageVisit(stage="new", visit=0, entered_at=datetime(2026, 12, 3, tzinfo=UTC), branches=[])
    order = NewOrder(order_id="O-1", pipeline_id="shop")
    typed = OrderState(order=order, pipeline=shop, responsible_id=None, fields={}, current=visit)
    assert result_problem(typed, RuleResult(summary="x", variables={"count": "3"})) is None
    assert result_problem(typed, RuleResult(summary="x", variables={"count": "three"})) == (
        "variables.count is an integer: 'three' is not a whole number"
    )
    assert types_of(typed.pipeline.variables, {"count": 3, "customer_name": "Ada"}) == {
        "count": "integer",
        "customer_name": "string",
    }


def test_a_variable_read_by_get_or_by_a_delay_field_is_checked_and_a_method_is_no_name() -> None:
    rules = (
        "    rules:\n"
        "      - {type: write_to_log, params: {message: \"{{ variables.get('count') }} "
        '{% for k, v in variables.items() %}{{ k }}{% endfor %}"}}\n'
    )
    assert pipeline("variables: {count: integer}\n", rules).stages[0].rules[0].type == "write_to_log"
    assert problems("", rules) == ["stages[0].rules[0]: variables.count is not declared (variables: none) and no rule "
                                   "sets it"]  # fmt: skip
    delayed = "    rules: [{type: write_to_log, delay: {field: variables.call_on}, params: {message: x}}]\n"
    assert problems("", delayed) == [
        "stages[0].rules[0]: variables.call_on is not declared (variables: none) and no rule sets it"
    ]
