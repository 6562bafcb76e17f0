import pytest
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Employee
from tests.rules.conftest import RunRule


async def test_reads_the_responsible_employee_by_default(run_rule: RunRule) -> None:
    result = await run_rule("employee_information", {})

    assert result.variables == {
        "employee_id": "emp-sales",
        "employee_name": "Sam Sales",
        "employee_email": "sam@example.com",
        "employee_phone": "+15550110",
    }
    manager = await run_rule("employee_information", {"employee_id": "emp-manager", "fields": ["phone"]})
    assert manager.variables == {"employee_phone": ""}  # none on record: empty, as templates show a missing value


async def test_reads_a_chosen_employee_as_stored_into_chosen_variables(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    async with session(rule_deps.engine) as db:
        await db.merge(Employee(id="emp-warehouse", name="Wanda Warehouse", email="w@example.com", phone="+1555"))
        await db.commit()

    result = await run_rule(
        "employee_information",
        {"employee_id": "emp-warehouse", "variables_prefix": "packer_", "fields": ["name", "phone"]},
    )

    assert result.variables == {"packer_name": "Wanda Warehouse", "packer_phone": "+1555"}
    assert result.summary == "read Wanda Warehouse's record into packer_name, packer_phone"


async def test_an_unknown_employee_is_refused_without_retry(run_rule: RunRule) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("employee_information", {"employee_id": "emp-nobody"})
    assert refused.value.non_retryable
    assert "no employee with id 'emp-nobody'" in str(refused.value)
