"""API keys and the audit log.

A key's secret is ``oak_<id>_<random>``; the store keeps only its SHA-256, and a request's
key is found by that hash, so that finding it takes the same time whatever the key (no
comparison of secrets byte by byte, and the secret is long and random enough that a plain
hash is safe, as GitHub's and Stripe's tokens are). Changes to how the engine is set up
(keys made and revoked, pipelines loaded) go to the audit log with who made them.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from automation.models import SLUG_PATTERN
from config import SCOPES
from store.columns import utcnow
from store.tables_access import ApiKey, AuditRecord

PREFIX = "oak_"
NAME_CHARS = 100
SECRET_CHARS = 200
"""Longer than any key's secret (``oak_`` + 10 + ``_`` + 43 characters)."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str
    """Shown once: the store keeps only its hash."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def local_actor() -> str:
    """Who acts from this machine's command line."""
    return f"user:{getpass.getuser()}"


def key_problems(name: str, scopes: Sequence[str], pipelines: Sequence[str] | None) -> list[str]:
    """What is wrong with a key's description, one line each (none when it is fine)."""
    problems = []
    if not name.strip() or len(name) > NAME_CHARS or not name.isprintable():
        problems.append(f"name: 1 to {NAME_CHARS} printable characters")
    if not scopes:
        problems.append("scopes: give at least one of " + ", ".join(SCOPES))
    problems += [f"scope {s!r}: unknown; one of {', '.join(SCOPES)}" for s in scopes if s not in SCOPES]
    problems += [f"pipeline {p!r}: not a pipeline id" for p in pipelines or () if not re.fullmatch(SLUG_PATTERN, p)]
    if pipelines and "payloads:decode" in scopes:
        problems.append("payloads:decode cannot be limited to pipelines: the codec server decodes any order's payloads")
    return problems


async def create_key(
    db: AsyncSession, name: str, scopes: Sequence[str], pipelines: Sequence[str] | None, by: str
) -> NewKey:
    """A new key (not committed); ValueError says what is wrong with its description."""
    if problems := key_problems(name, scopes, pipelines):
        raise ValueError("; ".join(problems))
    key_id = secrets.token_hex(5)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        id=key_id, name=name, secret_hash=secret_hash(secret), scopes=sorted(set(scopes)),
        pipelines=sorted(set(pipelines)) if pipelines else None, created_by=by,
    )  # fmt: skip
    db.add(key)
    await audit(db, by, "key_created", key_id, {"name": name, "scopes": key.scopes, "pipelines": key.pipelines})
    return NewKey(key, secret)


async def revoke_key(db: AsyncSession, key_id: str, by: str) -> ApiKey:
    """Revokes the key (not committed); KeyError if there is none. A revoked key stays
    listed, and revoking it again changes nothing."""
    key = await db.get(ApiKey, key_id)
    if key is None:
        raise KeyError(key_id)
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = utcnow(), by
        db.add(key)
        await audit(db, by, "key_revoked", key_id, {"name": key.name})
    return key


async def list_keys(db: AsyncSession) -> list[ApiKey]:
    return list((await db.exec(select(ApiKey).order_by(col(ApiKey.created_at)))).all())


async def key_of(db: AsyncSession, secret: str) -> ApiKey | None:
    """The key whose secret this is (revoked or not), found by its hash; none for a text
    longer than any key's secret, which is not even hashed."""
    if not secret or len(secret) > SECRET_CHARS:
        return None
    return (await db.exec(select(ApiKey).where(ApiKey.secret_hash == secret_hash(secret)))).first()


async def audit(db: AsyncSession, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
    db.add(AuditRecord(actor=actor, action=action, subject=subject, detail=detail))


async def audit_log(db: AsyncSession, actions: Iterable[str] = (), most: int = 1000) -> list[AuditRecord]:
    """The latest changes, oldest first."""
    query = select(AuditRecord).order_by(col(AuditRecord.id).desc()).limit(most)
    if actions := list(actions):
        query = query.where(col(AuditRecord.action).in_(actions))
    return list(reversed((await db.exec(query)).all()))
