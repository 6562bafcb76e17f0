"""Customers and employees: reading them for rules, saving them when orders arrive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.errors import describe
from automation.files import FileError, read_yaml
from automation.models import Contact, Id, Name
from automation.order import CustomerInfo
from automation.templating import Template
from store.database import upsert
from store.lists import add_element, check_values, save_list
from store.tables import Customer, CustomerEmail, CustomerPhone, DocumentTemplate, Employee
from store.tables_lists import ListDefinition, ListElement


async def save_customer(db: AsyncSession, info: CustomerInfo) -> None:
    """Creates or replaces the customer's card (names, e-mails, phones in card order).
    Upserts, so two orders of one customer arriving together do not collide."""
    customer = Customer(id=info.id, first_name=info.first_name, last_name=info.last_name, company=info.company)
    await upsert(db, customer, "id")
    for position, email in enumerate(info.emails):
        row = CustomerEmail(customer_id=info.id, type=email.type, address=email.value, position=position)
        await upsert(db, row, "customer_id", "position")
    for position, phone in enumerate(info.phones):
        await upsert(db, CustomerPhone(customer_id=info.id, type=phone.type, number=phone.value, position=position),
                     "customer_id", "position")  # fmt: skip
    for table, kept in ((CustomerEmail, len(info.emails)), (CustomerPhone, len(info.phones))):
        await db.exec(delete(table).where(col(table.customer_id) == info.id, col(table.position) >= kept))


async def save_employee(db: AsyncSession, employee: Employee) -> None:
    await db.merge(employee)


async def customer_emails(db: AsyncSession, customer_id: str) -> list[CustomerEmail]:
    rows = await db.exec(
        select(CustomerEmail).where(CustomerEmail.customer_id == customer_id).order_by(col(CustomerEmail.position))
    )
    return list(rows)


async def customer_phones(db: AsyncSession, customer_id: str) -> list[CustomerPhone]:
    rows = await db.exec(
        select(CustomerPhone).where(CustomerPhone.customer_id == customer_id).order_by(col(CustomerPhone.position))
    )
    return list(rows)


async def customers_by_contact(db: AsyncSession, *, email: str | None = None, phone: str | None = None) -> list[str]:
    """Ids of the customers whose card has this e-mail address (any case) or phone number."""
    if email is not None:
        query = select(CustomerEmail.customer_id).where(func.lower(CustomerEmail.address) == email.strip().lower())
    elif phone is not None:
        query = select(CustomerPhone.customer_id).where(CustomerPhone.number == phone.strip())
    else:
        return []
    return sorted(set(await db.exec(query)))


async def customer_values(db: AsyncSession, customer_id: str | None) -> dict[str, Any]:
    """The customer as templates see it: ``customer.first_name``, ``customer.email``..."""
    customer = await db.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return {}
    emails = await customer_emails(db, customer.id)
    phones = await customer_phones(db, customer.id)
    first_phone = phones[0] if phones else None
    return {
        "id": customer.id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "name": f"{customer.first_name} {customer.last_name}".strip(),
        "company": customer.company,
        "email": emails[0].address if emails else None,
        "phone": first_phone.number if first_phone else None,
    }


async def employee_values(db: AsyncSession, employee_id: str | None) -> dict[str, Any]:
    employee = await db.get(Employee, employee_id) if employee_id else None
    return employee.model_dump() if employee else {}


class EmployeeSpec(BaseModel):
    """An employee as the directory file holds them."""

    model_config = ConfigDict(extra="forbid")
    id: Id
    name: Name = Field(min_length=1)
    email: Contact | None = None
    phone: Contact | None = None


class DocumentTemplateSpec(BaseModel):
    """A document template as the directory file holds it (checked as templates)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    title: Template = Field(min_length=1, max_length=255)
    body: Template = Field(min_length=1, max_length=100_000, description="HTML")


@dataclass(frozen=True)
class Directory:
    """A directory file: employees, customers, and the lists and document templates an admin defines."""

    employees: list[Employee]
    customers: list[CustomerInfo]
    lists: list[ListDefinition]
    document_templates: list[DocumentTemplateSpec]
    list_elements: list[ListElement]
    """Elements a list starts with (``elements:`` under a list, by key); rules change them later."""


def read_directory(path: str | Path) -> Directory:
    """Reads and checks a directory file; a ValueError names each problem's place."""
    try:
        data = _mapping(read_yaml(path, "invalid directory") or {}, "the file")
        lists = [_mapping(item, f"lists[{i}]") for i, item in enumerate(_sequence(data, "lists"))]
        definitions = [
            _valid(ListDefinition, {k: v for k, v in item.items() if k != "elements"}, f"lists[{i}]")
            for i, item in enumerate(lists)
        ]
        return Directory(
            employees=[
                Employee(**_valid(EmployeeSpec, e, f"employees[{i}]").model_dump())
                for i, e in enumerate(_sequence(data, "employees"))
            ],
            customers=[_valid(CustomerInfo, c, f"customers[{i}]") for i, c in enumerate(_sequence(data, "customers"))],
            lists=definitions,
            document_templates=[
                _valid(DocumentTemplateSpec, t, f"document_templates[{i}]")
                for i, t in enumerate(_sequence(data, "document_templates"))
            ],
            list_elements=_elements(definitions, lists),
        )
    except FileError:
        raise
    except ValueError as err:
        raise FileError(str(path), "invalid directory", str(err).split("\n  ")) from None


def _elements(definitions: list[ListDefinition], lists: list[dict[str, Any]]) -> list[ListElement]:
    """The elements the lists start with, their values checked against the lists' fields."""
    found = []
    for i, (definition, item) in enumerate(zip(definitions, lists, strict=True)):
        for key, values in _mapping(item.get("elements") or {}, f"lists[{i}].elements").items():
            checked = check_values(definition, _mapping(values, f"lists[{i}].elements.{key}"))
            found.append(ListElement(list_id=definition.id, key=str(key), values=checked))
    return found


def _sequence(data: dict[str, Any], kind: str) -> list[Any]:
    items = data.get(kind) or []
    if not isinstance(items, list):
        raise ValueError(f"{kind}: should be a list")
    return items


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: should be a mapping (name: value)")
    return value


M = TypeVar("M", bound=BaseModel)


def _valid(model: type[M], value: Any, where: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as err:
        raise ValueError("\n  ".join(f"{where}.{problem}" for problem in describe(err))) from None


async def save_directory(db: AsyncSession, directory: Directory) -> None:
    for employee in directory.employees:
        await db.merge(employee)
    for customer in directory.customers:
        await save_customer(db, customer)
    for definition in directory.lists:
        await save_list(db, definition)
    for element in directory.list_elements:
        await add_element(db, element)  # kept if it is there already: rules may have changed it
    for template in directory.document_templates:
        await db.merge(DocumentTemplate(**template.model_dump()))


DIRECTORY_TABLES: tuple[type[Any], ...] = (
    Employee,
    Customer,
    CustomerEmail,
    CustomerPhone,
    ListDefinition,
    ListElement,
    DocumentTemplate,
)
"""What a directory file loads; a test run's own store copies them from the real one."""


async def copy_directory(source: AsyncSession, target: AsyncSession) -> int:
    """Copies the directory's rows (employees, customers, lists, templates) from one store
    into another, empty, one; answers how many rows it copied."""
    copied = 0
    for table in DIRECTORY_TABLES:
        for row in (await source.exec(select(table))).all():
            target.add(table.model_validate(row.model_dump()))
            copied += 1
        await target.flush()  # in the order of the tables: a list's elements after the list
    return copied
