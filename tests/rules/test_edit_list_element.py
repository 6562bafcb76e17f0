import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation.rule_kinds.edit_list_element import EditListElementParams
from store.tables_lists import ListElement
from tests.rules.conftest import RunRule
from tests.rules.lists_helpers import add_elements, define_example_lists, elements

DHL = {"name": "DHL", "phone": "+4922899", "express": False}


@pytest.fixture(autouse=True)
async def lists(store: AsyncEngine) -> None:
    await define_example_lists(store)
    await add_elements(store, "carriers", {"dhl": DHL})


async def dhl(engine: AsyncEngine) -> ListElement:
    [element] = await elements(engine, "carriers")
    return element


async def test_sets_the_given_fields_and_keeps_the_others(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    before = await dhl(rule_deps.engine)
    params = {"list_id": "carriers", "key": "dhl", "values": {"express": "{{ variables.fast }}", "phone": "+4930"}}

    result = await run_rule("edit_list_element", params, variables={"fast": "true"})

    after = await dhl(rule_deps.engine)
    assert after.values == {"name": "DHL", "phone": "+4930", "express": True}
    assert after.updated_at > before.updated_at
    assert result.effective
    assert result.summary == "edited 'dhl' of Carriers: express=True, phone='+4930'"


async def test_a_retry_answers_the_same_without_writing_over_a_later_edit(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {"list_id": "carriers", "key": "dhl", "values": {"phone": "+4930"}}
    first = await run_rule("edit_list_element", params, run_key="O-1/0/3")
    await run_rule("edit_list_element", {**params, "values": {"phone": "+4940"}}, run_key="O-1/0/4")

    retried = await run_rule("edit_list_element", params, run_key="O-1/0/3")

    assert retried == first
    assert (await dhl(rule_deps.engine)).values["phone"] == "+4940"


async def test_values_it_already_has_change_nothing(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    result = await run_rule("edit_list_element", {"list_id": "carriers", "key": "dhl", "values": {"name": "DHL"}})

    assert not result.effective
    assert result.summary == "'dhl' of Carriers already has these values"


async def test_a_missing_element_is_not_created(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    result = await run_rule("edit_list_element", {"list_id": "carriers", "key": "fedex", "values": {"name": "FedEx"}})

    assert not result.effective
    assert result.summary == "not edited: Carriers has no element 'fedex'"
    assert [e.key for e in await elements(rule_deps.engine, "carriers")] == ["dhl"]


async def test_a_value_of_the_wrong_type_is_refused_and_nothing_changes(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("edit_list_element", {"list_id": "carriers", "key": "dhl", "values": {"express": "soon"}})

    assert refused.value.non_retryable
    assert refused.value.message == "list 'carriers', field 'express': 'soon' is not a bool"
    assert (await dhl(rule_deps.engine)).values == DHL


async def test_an_unknown_list_is_refused(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError, match="no list 'suppliers'"):
        await run_rule("edit_list_element", {"list_id": "suppliers", "key": "acme", "values": {"name": "Acme"}})


def test_no_values_is_refused_at_load() -> None:
    with pytest.raises(ValidationError):
        EditListElementParams.model_validate({"list_id": "carriers", "key": "dhl", "values": {}})
