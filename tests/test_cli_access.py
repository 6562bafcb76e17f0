"""The CLI's keys and audit log: a key's secret is shown once and kept as a hash; making and
revoking keys and loading pipelines are recorded with who and when."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
from pathlib import Path

import pytest

from starter import run
from store.access import key_of
from store.database import make_engine, session
from store.tables_access import ApiKey

ROOT = Path(__file__).resolve().parent.parent


def _orders(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = run(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _stored_key(data_dir: Path, secret: str) -> ApiKey | None:
    async def find() -> ApiKey | None:
        engine = make_engine(f"sqlite:///{data_dir / 'orders.db'}")
        async with session(engine) as db:
            key = await key_of(db, secret)
        await engine.dispose()
        return key

    return asyncio.run(find())


def test_keys_are_made_listed_and_revoked_and_each_change_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    status, out, _ = _orders(capsys, "keys", "create", "billing", "--scope", "events:write", "--pipeline", "shop")
    assert status == 0
    secret = re.search(r"secret \(shown only now; the store keeps a hash\): (oak_\S+)", out)
    assert secret is not None
    key = _stored_key(tmp_path, secret[1])
    assert key is not None and (key.scopes, key.pipelines, key.revoked_at) == (["events:write"], ["shop"], None)

    status, out, _ = _orders(capsys, "keys", "list")
    assert status == 0 and f"{key.id}  'billing'  scopes events:write  shop  made " in out
    assert secret[1] not in out and secret[1].split("_", 2)[2] not in out
    status, out, _ = _orders(capsys, "keys", "list", "--json")
    assert [k["id"] for k in json.loads(out)] == [key.id] and "secret_hash" not in out

    assert _orders(capsys, "keys", "revoke", key.id)[0] == 0
    revoked = _stored_key(tmp_path, secret[1])
    assert revoked is not None and revoked.revoked_by == f"user:{getpass.getuser()}"
    assert _orders(capsys, "keys", "revoke", "nope") == (1, "", "no key 'nope' (`keys list` lists them)\n")
    scopes = "events:write, orders:read, orders:write, payloads:decode, admin"
    refused = (1, "", f"invalid key: scope 'everything': unknown; one of {scopes}\n")
    assert _orders(capsys, "keys", "create", "x", "--scope", "everything") == refused

    assert _orders(capsys, "load-pipeline", str(ROOT / "examples" / "online_store.yaml"))[0] == 0
    status, out, _ = _orders(capsys, "audit", "--json")
    records = json.loads(out)
    assert [(r["actor"], r["action"], r["subject"]) for r in records] == [
        (f"user:{getpass.getuser()}", "key_created", key.id),
        (f"user:{getpass.getuser()}", "key_revoked", key.id),
        (f"user:{getpass.getuser()}", "pipeline_loaded", "online-store"),
    ]
    assert records[0]["detail"] == {"name": "billing", "scopes": ["events:write"], "pipelines": ["shop"]}
    assert records[2]["detail"]["version"] == 1 and re.fullmatch(r"[0-9a-f]{64}", records[2]["detail"]["hash"])
    assert secret[1] not in out
    status, out, _ = _orders(capsys, "audit", "--action", "pipeline_loaded")
    assert status == 0 and out.splitlines()[-1] == "1 change(s)"
