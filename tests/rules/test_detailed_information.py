from typing import Any

import pytest
from pydantic import ValidationError

from activities.rules.base import WorkerResources
from automation.order import ContactPoint
from automation.rule_kinds import rule_kind
from store.database import session
from store.directory import save_customer
from tests.rules.conftest import CUSTOMER, RunRule


async def test_reads_the_whole_card_into_prefixed_variables(run_rule: RunRule) -> None:
    result = await run_rule("detailed_information", {})

    assert result.effective
    assert result.variables == {
        "customer_first_name": "Ada",
        "customer_last_name": "Lovelace",
        "customer_name": "Ada Lovelace",
        "customer_company": "",  # no company: empty, as templates show a missing value
        "customer_email": "ada@home.example",  # the card's first address
        "customer_phone": "+15550100",
    }


async def test_reads_the_card_as_the_store_holds_it_when_it_runs(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    changed = CUSTOMER.model_copy(
        update={"company": "Analytical Engines Ltd", "emails": [ContactPoint(type="work", value="ada@engines.example")]}
    )
    async with session(rule_deps.engine) as db:
        await save_customer(db, changed)
        await db.commit()

    result = await run_rule("detailed_information", {"variables_prefix": "buyer_", "fields": ["company", "email"]})

    assert result.variables == {"buyer_company": "Analytical Engines Ltd", "buyer_email": "ada@engines.example"}
    assert "buyer_company, buyer_email" in result.summary


async def test_an_order_without_a_customer_reads_nothing_and_says_why(run_rule: RunRule) -> None:
    result = await run_rule("detailed_information", {}, order={"customer_id": None})

    assert not result.effective
    assert result.variables == {}
    assert result.summary == "the order has no customer card to read"


@pytest.mark.parametrize("params", [{"variables_prefix": "bad prefix"}, {"fields": ["salary"]}, {"fields": []}])
def test_bad_parameters_are_refused_at_load(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        rule_kind("detailed_information").params.model_validate(params)
