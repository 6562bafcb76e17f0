import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from automation.rule_kinds.read_list_element import ReadListElementParams
from tests.rules.conftest import RunRule
from tests.rules.lists_helpers import add_elements, define_example_lists

DHL = {"name": "DHL", "phone": "+4922899", "express": True}


@pytest.fixture(autouse=True)
async def lists(store: AsyncEngine) -> None:
    await define_example_lists(store)
    await add_elements(store, "carriers", {"dhl": DHL, "ups": {"name": "UPS", "express": None}})


async def test_reads_an_element_into_variables(run_rule: RunRule) -> None:
    result = await run_rule("read_list_element", {"list_id": "carriers", "key": "{{ variables.carrier }}"},
                            variables={"carrier": "dhl"})  # fmt: skip

    assert result.effective
    assert result.variables == {"list_name": "DHL", "list_phone": "+4922899", "list_express": True}
    assert result.summary == "read 'dhl' of Carriers into list_name, list_phone, list_express"


async def test_fields_without_a_value_are_empty_under_a_chosen_prefix(run_rule: RunRule) -> None:
    result = await run_rule("read_list_element", {"list_id": "carriers", "key": "ups", "variables_prefix": "carrier_"})

    assert result.variables == {"carrier_name": "UPS", "carrier_phone": "", "carrier_express": ""}


async def test_a_missing_element_reads_nothing_and_says_why(run_rule: RunRule) -> None:
    result = await run_rule("read_list_element", {"list_id": "carriers", "key": "fedex"})

    assert not result.effective
    assert result.variables == {}
    assert result.summary == "not read: Carriers has no element 'fedex'"


async def test_an_unknown_list_is_refused(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("read_list_element", {"list_id": "suppliers", "key": "acme"})
    assert refused.value.non_retryable
    assert "no list 'suppliers'" in refused.value.message


async def test_an_empty_key_is_refused(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError, match="is empty once filled in"):
        await run_rule("read_list_element", {"list_id": "carriers", "key": "{{ variables.nothing }}"})


def test_a_prefix_that_is_not_a_plain_name_is_refused_at_load() -> None:
    with pytest.raises(ValidationError):
        ReadListElementParams.model_validate({"list_id": "carriers", "key": "dhl", "variables_prefix": "a-b."})
