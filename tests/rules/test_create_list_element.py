from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

import starter
from activities.rules.base import WorkerResources
from store.database import make_engine
from tests.rules.conftest import RunRule
from tests.rules.lists_helpers import EXAMPLE_DIRECTORY, add_elements, define_example_lists, elements

CARRIER = {
    "list_id": "carriers",
    "key": "dhl-{{ order.number }}",
    "values": {"name": "DHL for {{ customer.first_name }}", "phone": 5550100, "express": "{{ variables.fast }}"},
}


@pytest.fixture(autouse=True)
async def lists(store: AsyncEngine) -> None:
    await define_example_lists(store)


async def test_creates_an_element_with_values_of_the_fields_types(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    result = await run_rule("create_list_element", CARRIER, run_key="O-1/0/1", variables={"fast": "yes"})

    [element] = await elements(rule_deps.engine, "carriers")
    assert (element.key, element.run_key) == ("dhl-N-1", "O-1/0/1")
    assert element.values == {"name": "DHL for Ada", "phone": "5550100", "express": True}
    assert result.effective
    assert result.summary == "created 'dhl-N-1' in Carriers: name='DHL for Ada', phone='5550100', express=True"


async def test_numbers_and_dates_are_read_from_text(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    values = {"name": "Ada", "discount_percent": "12.5", "since": "{{ variables.day }}"}
    await run_rule("create_list_element", {"list_id": "vip_customers", "key": "ada", "values": values},
                   variables={"day": "2026-11-22T10:00:00Z"})  # fmt: skip

    [element] = await elements(rule_deps.engine, "vip_customers")
    assert element.values == {"name": "Ada", "discount_percent": 12.5, "since": "2026-11-22"}


async def test_a_retry_creates_nothing_more_and_answers_the_same(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    first = await run_rule("create_list_element", CARRIER, run_key="O-1/0/1", variables={"fast": "no"})
    retried = await run_rule("create_list_element", CARRIER, run_key="O-1/0/1", variables={"fast": "no"})

    assert retried == first
    assert [(e.key, e.values["express"]) for e in await elements(rule_deps.engine, "carriers")] == [("dhl-N-1", False)]


async def test_a_key_taken_in_the_list_is_left_as_it_is(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_elements(rule_deps.engine, "carriers", {"dhl-N-1": {"name": "DHL"}})

    result = await run_rule("create_list_element", CARRIER, variables={"fast": "yes"})

    assert not result.effective
    assert result.summary == "not created: Carriers already has an element 'dhl-N-1'"
    [element] = await elements(rule_deps.engine, "carriers")
    assert (element.values, element.run_key) == ({"name": "DHL"}, None)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"express": "maybe"}, "list 'carriers', field 'express': 'maybe' is not a bool"),
        ({"express": 1}, "list 'carriers', field 'express': 1 is not a bool"),
        ({"weight": "2"}, "list 'carriers' has no field 'weight'; its fields: name, phone, express"),
    ],
)
async def test_values_that_do_not_fit_the_fields_are_refused_naming_the_field(
    run_rule: RunRule, rule_deps: WorkerResources, values: dict[str, Any], why: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("create_list_element", {"list_id": "carriers", "key": "ups", "values": values})

    assert refused.value.non_retryable
    assert refused.value.message == why
    assert await elements(rule_deps.engine, "carriers") == []


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"discount_percent": "ten"}, "field 'discount_percent': 'ten' is not a number"),
        ({"discount_percent": True}, "field 'discount_percent': True is not a number"),
        ({"since": "22/11/2026"}, "field 'since': '22/11/2026' is not a date"),
    ],
)
async def test_numbers_and_dates_are_checked(run_rule: RunRule, values: dict[str, Any], why: str) -> None:
    with pytest.raises(ApplicationError, match=why):
        await run_rule("create_list_element", {"list_id": "vip_customers", "key": "ada", "values": values})


async def test_an_unknown_list_is_refused(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("create_list_element", {"list_id": "suppliers", "key": "acme", "values": {}})
    assert refused.value.non_retryable
    assert "no list 'suppliers'" in str(refused.value)


async def test_an_empty_value_clears_a_typed_field(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"list_id": "carriers", "key": "ups", "values": {"name": "UPS", "express": "{{ variables.none }}"}}
    await run_rule("create_list_element", params)

    [element] = await elements(rule_deps.engine, "carriers")
    assert element.values == {"name": "UPS", "express": None}


async def test_the_directory_file_defines_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'orders.db'}")
    await starter.load_directory(str(EXAMPLE_DIRECTORY))
    assert "2 lists and 2 document templates loaded" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    assert {e.key: e.values["express"] for e in await elements(engine, "carriers")} == {"ups": False, "dhl": True}
    await engine.dispose()

    bad = tmp_path / "bad.yaml"
    bad.write_text("lists:\n  - {id: carriers, title: Carriers, fields: {name: text}}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        await starter.load_directory(str(bad))
    assert "fields.name: input should be 'string', 'number', 'bool' or 'date'" in str(refused.value)

    bad.write_text("lists:\n  - {id: carriers, title: C, fields: {express: bool}, elements: {ups: {express: maybe}}}\n")
    with pytest.raises(SystemExit) as refused:
        await starter.load_directory(str(bad))
    assert "list 'carriers', field 'express': 'maybe' is not a bool" in str(refused.value)
