"""The tables. Rows written by rules carry the rule run's key (``run_key``), unique, so
that a retried activity finds its earlier write instead of making another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.columns import json_object, when


class PipelineRecord(SQLModel, table=True):
    """A pipeline as new orders run it: its newest version (``PipelineVersion``)."""

    __tablename__ = "pipelines"
    id: str = Field(primary_key=True)
    title: str
    version: str = Field(description="sha256 of the definition")
    webhook_secret: str = Field(description="signs calls to the pipeline's webhook URL")
    definition: dict[str, Any] = json_object()
    loaded_at: datetime = when(nullable=False)


class PipelineVersion(SQLModel, table=True):
    """One version of a pipeline, never changed once stored: a load with other content, or
    an earlier version made current again, adds the next number."""

    __tablename__ = "pipeline_versions"
    pipeline_id: str = Field(foreign_key="pipelines.id", primary_key=True)
    number: int = Field(primary_key=True, description="1, 2, 3... in the order they were stored")
    content_hash: str = Field(description="sha256 of the definition (automation.versions.content_hash)")
    definition: dict[str, Any] = json_object()
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False),
        description="what it changed in the version before (automation.versions.Change)",
    )  # fmt: skip
    stage_moves: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False),
        description="a stage it removes -> the stage an order that would enter it enters instead",
    )  # fmt: skip
    loaded_at: datetime = when(nullable=False)
    loaded_by: str = Field(description="a key (key:<id>) or a local user (user:<name>)")
    source: str = Field(description="where it came from: a file, the API, an earlier version")


class ConstantValue(SQLModel, table=True):
    """A constant's value as an admin set it, in place of the one its pipeline file gives:
    rules read it as it is when they run."""

    __tablename__ = "constant_values"
    pipeline_id: str = Field(foreign_key="pipelines.id", primary_key=True)
    name: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    set_at: datetime = when(nullable=False)
    set_by: str = Field(description="a key (key:<id>) or a local user (user:<name>)")


class Employee(SQLModel, table=True):
    __tablename__ = "employees"
    id: str = Field(primary_key=True)
    name: str
    email: str | None = None
    phone: str | None = None


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    id: str = Field(primary_key=True)
    first_name: str = ""
    last_name: str = ""
    company: str | None = None


class CustomerEmail(SQLModel, table=True):
    __tablename__ = "customer_emails"
    __table_args__ = (UniqueConstraint("customer_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id", index=True)
    type: str = Field(description="work, home, mailing, other...")
    address: str
    position: int = Field(description="order in the customer's card; auto-select takes the first")


class CustomerPhone(SQLModel, table=True):
    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id", index=True)
    type: str = Field(description="mobile, work, home, other...")
    number: str
    position: int


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    id: str = Field(primary_key=True)
    pipeline_id: str = Field(index=True)
    stage: str = Field(index=True)
    customer_id: str | None = Field(default=None, index=True)
    responsible_id: str | None = None
    fields: dict[str, Any] = json_object()
    variables: dict[str, Any] = json_object()
    created_at: datetime = when(nullable=False)
    updated_at: datetime = when(nullable=False)
    test: bool = Field(default=False, description="a test order: left out of counts and customers' events")
    run_number: int | None = Field(default=None, description="the workflow run that wrote the row last: its number")
    run_id: str | None = Field(default=None, description="...its id")
    history_length: int | None = Field(default=None, description="...at this length of its history")


class TimelineRecord(SQLModel, table=True):
    """An entry of an order's timeline, written by its workflow (``store/orders.py``
    says how a row that a discarded workflow task wrote is put right)."""

    __tablename__ = "timeline"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True)
    seq: int
    at: datetime = when(nullable=False)
    kind: str
    stage: str
    message: str
    data: dict[str, Any] = json_object()
    run_number: int | None = Field(default=None, description="the workflow run that wrote the row last: its number")
    run_id: str | None = Field(default=None, description="...its id")
    history_length: int | None = Field(default=None, description="...at this length of its history")


class Comment(SQLModel, table=True):
    __tablename__ = "comments"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    author_id: str | None = None
    text: str
    created_at: datetime = when(nullable=False)


class LogLine(SQLModel, table=True):
    __tablename__ = "log_lines"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    level: str
    message: str
    created_at: datetime = when(nullable=False)


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    employee_id: str = Field(index=True)
    sender_id: str | None = None
    text: str
    created_at: datetime = when(nullable=False)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    assignee_id: str = Field(index=True)
    title: str
    description: str = ""
    deadline: datetime | None = when(nullable=True)
    created_at: datetime = when(nullable=False)


class SentMessage(SQLModel, table=True):
    """The outbox: one row per message a rule sends, written before it is sent (see
    ``activities/rules/_outbox.py``)."""

    __tablename__ = "sent_messages"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    channel: str = Field(description="email, sms...")
    recipient: str
    sender: str = Field(default="", description="the From of an e-mail: its mailbox")
    subject: str = ""
    body: str
    message_id: str = Field(description="the protocol's id, e.g. the e-mail's Message-ID")
    status: str = Field(
        default="pending", description="pending, sending, handing_over, sent, refused, failed, stopped, unconfirmed"
    )
    claim: int | None = Field(default=None, description="the attempt that is sending it (its number)")
    note: str = Field(default="", description="why it was refused, failed or is unconfirmed")
    sent_at: datetime | None = when(nullable=True)
    created_at: datetime = when(nullable=False)


class DocumentTemplate(SQLModel, table=True):
    """A document template an admin defines (the directory file's ``document_templates:``)."""

    __tablename__ = "document_templates"
    id: str = Field(primary_key=True)
    title: str = Field(description="a template: the document's title")
    body: str = Field(description="a template: the document's HTML; the values it inserts are escaped")


class Document(SQLModel, table=True):
    """A document made for an order from a template (HTML)."""

    __tablename__ = "documents"
    id: str = Field(primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    template_id: str = Field(index=True)
    title: str
    html: str
    created_at: datetime = when(nullable=False)


class Shipment(SQLModel, table=True):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "id"),)
    pk: int | None = Field(default=None, primary_key=True)
    id: str
    order_id: str = Field(index=True)
    status: str = "new"
    delivery_service: str | None = None
    tracking_number: str | None = None


class RuleRun(SQLModel, table=True):
    """What a rule run did, saved in the same transaction as its effects: a retry after a
    crash finds it and answers the same, without acting twice."""

    __tablename__ = "rule_runs"
    run_key: str = Field(primary_key=True)
    order_id: str = Field(index=True)
    result: dict[str, Any] = json_object()
    created_at: datetime = when(nullable=False)
