"""Who may use the engine, and what was done to it: API keys and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from store.columns import json_object, when


class ApiKey(SQLModel, table=True):
    """A service's key to the HTTP API. Only a hash of its secret is kept: the secret is
    shown once, when the key is made."""

    __tablename__ = "api_keys"
    id: str = Field(primary_key=True, description="the key's public id, the start of its secret")
    name: str
    secret_hash: str = Field(unique=True, description="SHA-256 of the whole secret, in hex")
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    pipelines: list[str] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True), description="the pipelines it may act on; None: all"
    )
    created_at: datetime = when(nullable=False)
    created_by: str
    revoked_at: datetime | None = when(nullable=True)
    revoked_by: str | None = None


class AuditRecord(SQLModel, table=True):
    """One change to how the engine is set up: who did it, when, to what."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(nullable=False)
    actor: str = Field(description="a key (key:<id>) or a local user (user:<name>)")
    action: str = Field(index=True)
    subject: str
    detail: dict[str, Any] = json_object()
