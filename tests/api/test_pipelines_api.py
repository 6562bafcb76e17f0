"""Pipelines and their versions through the HTTP API: load, list, show, diff, restore; the
admin scope only; bad input refused with its place, changing nothing; every stored version
in the audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.rules.base import WorkerResources
from store.access import audit_log
from store.database import session
from store.orders import save_order
from store.pipelines import list_versions
from tests.api.conftest import bearer, new_key

SHOP: dict[str, Any] = {
    "id": "shop",
    "title": "Shop",
    "stages": [
        {"id": "new", "title": "New", "rules": [{"type": "write_to_log", "params": {"message": "hello"}}]},
        {"id": "paid", "title": "Paid", "final": "success", "triggers": [{"type": "payment"}]},
    ],
}
UNKNOWN_RULE = {**SHOP, "stages": [{**SHOP["stages"][0], "rules": [{"type": "nope"}]}, SHOP["stages"][1]]}
EDITED = {**SHOP, "title": "Our shop", "stages": [SHOP["stages"][0], {**SHOP["stages"][1], "title": "Paid!"}]}


async def _versions(engine: AsyncEngine) -> list[int]:
    async with session(engine) as db:
        return [v.number for v in await list_versions(db, "shop")]


async def test_a_pipeline_loaded_twice_with_an_edit_between_has_two_versions_and_their_diff(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    first = await admin.post("/pipelines", json=SHOP)
    assert first.status_code == 201
    assert (first.json()["new"], first.json()["version"]["number"]) == (True, 1)
    same = await admin.post("/pipelines", json=SHOP)
    assert (same.status_code, same.json()["new"], same.json()["version"]["number"]) == (200, False, 1)
    second = await admin.post("/pipelines", json=EDITED)
    assert (second.status_code, second.json()["version"]["number"]) == (201, 2)
    assert second.json()["version"]["changes"] == [
        {"action": "changed", "part": "pipeline", "stage": None, "place": "pipeline", "detail": "title"},
        {"action": "changed", "part": "stage", "stage": "paid", "place": "stage 'paid'", "detail": "title"},
    ]
    listed = (await admin.get("/pipelines")).json()
    assert [(p["id"], p["title"], p["version"]) for p in listed] == [("shop", "Our shop", 2)]
    versions = (await admin.get("/pipelines/shop/versions")).json()
    assert [(v["number"], v["source"], v["loaded_by"].startswith("key:")) for v in versions] == [
        (1, "the HTTP API", True), (2, "the HTTP API", True),
    ]  # fmt: skip
    shown = (await admin.get("/pipelines/shop/versions/1")).json()
    assert (shown["definition"]["title"], shown["content_hash"]) == ("Shop", versions[0]["content_hash"])
    diff = (await admin.get("/pipelines/shop/diff", params={"from": 2, "to": 1})).json()
    assert diff == [
        {"action": "changed", "part": "pipeline", "stage": None, "place": "pipeline", "detail": "title"},
        {"action": "changed", "part": "stage", "stage": "paid", "place": "stage 'paid'", "detail": "title"},
    ]
    assert (await admin.get("/pipelines/shop/diff", params={"from": 2})).json() == []  # to the newest
    async with session(deps.engine) as db:
        audited = await audit_log(db, ["pipeline_loaded"])
    assert sorted(record.detail["version"] for record in audited) == [1, 2]


async def test_an_earlier_version_is_made_current_again_as_a_new_one(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await admin.post("/pipelines", json=SHOP)
    await admin.post("/pipelines", json=EDITED)
    restored = await admin.post("/pipelines/shop/versions/1/restore")
    assert restored.status_code == 201
    assert (restored.json()["version"]["number"], restored.json()["version"]["source"]) == (
        3, "version 1 made current again",
    )  # fmt: skip
    assert [p["title"] for p in (await admin.get("/pipelines")).json()] == ["Shop"]
    again = await admin.post("/pipelines/shop/versions/3/restore")
    assert (again.status_code, again.json()["new"]) == (200, False)
    async with session(deps.engine) as db:
        assert [r.detail for r in await audit_log(db, ["pipeline_restored"])] == [{"from": 1, "version": 3}]


@pytest.mark.parametrize(
    ("call", "status", "says"),
    [
        (("POST", "/pipelines", {**SHOP, "stages": SHOP["stages"][:1]}), 422, "stages: at least 2 item(s)"),
        (("POST", "/pipelines", UNKNOWN_RULE), 422, "stages[0].rules[0].type: unknown rule type 'nope'"),
        (("POST", "/pipelines", {**SHOP, "colour": "red"}), 422, "colour: unknown field"),
        (("GET", "/pipelines/shop/versions/9", None), 404, "pipeline 'shop' has versions 1 to 1, not 9"),
        (("GET", "/pipelines/nope/versions", None), 404, "no pipeline 'nope'"),
        (("GET", "/pipelines/shop/diff?from=1&to=5", None), 404, "pipeline 'shop' has versions 1 to 1, not 5"),
        (("POST", "/pipelines/shop/versions/4/restore", None), 404, "pipeline 'shop' has versions 1 to 1, not 4"),
        (("GET", "/pipelines/shop/versions/0", None), 422, "path.number: input should be greater than or equal to 1"),
    ],
)
async def test_a_bad_request_is_refused_saying_where_and_changes_nothing(
    admin: httpx.AsyncClient, deps: WorkerResources, call: tuple[str, str, Any], status: int, says: str
) -> None:
    await admin.post("/pipelines", json=SHOP)
    method, path, body = call
    response = await admin.request(method, path, json=body)
    assert response.status_code == status
    answer = response.json()
    assert any(says in line for line in [answer["detail"], *answer.get("errors", [])]), answer
    assert await _versions(deps.engine) == [1]


async def test_only_an_admin_key_for_the_pipeline_may_manage_it(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await admin.post("/pipelines", json=SHOP)
    writer = bearer(await new_key(deps.engine, "orders:write", "orders:read", "events:write"))
    elsewhere = bearer(await new_key(deps.engine, "admin", pipelines=["other"]))
    for headers, status in ((writer, 403), (elsewhere, 403), ({}, 401)):
        async with httpx.AsyncClient(base_url=str(admin.base_url), headers=headers) as http:
            for method, path in (("POST", "/pipelines"), ("GET", "/pipelines/shop/versions"),
                                 ("POST", "/pipelines/shop/versions/1/restore")):  # fmt: skip
                response = await http.request(method, path, json=EDITED if method == "POST" else None)
                assert response.status_code == status, (headers, method, path)
    async with httpx.AsyncClient(base_url=str(admin.base_url), headers=elsewhere) as limited:
        assert (await limited.get("/pipelines")).json() == []  # it does not see the others
    assert await _versions(deps.engine) == [1]


async def test_a_preview_changes_nothing_and_a_removed_stage_with_orders_needs_a_stage_move(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await admin.post("/pipelines", json=SHOP)
    async with session(deps.engine) as db:
        await save_order(db, "O-1", pipeline_id="shop", stage="paid", customer_id=None, responsible_id=None,
                         fields={}, variables={})  # fmt: skip
        await db.commit()
    renamed = {**SHOP, "stages": [SHOP["stages"][0], {**SHOP["stages"][1], "id": "settled"}]}
    removed = "stage 'paid' is removed but 1 order(s) are in it: say where they go (a stage move paid=STAGE)"
    seen = (await admin.post("/pipelines/preview", json=renamed)).json()
    assert (seen["newest"], seen["occupied"], seen["problems"]) == (1, {"paid": 1}, [removed])
    assert [(r["change"]["action"], r["change"]["stage"], r["orders"]) for r in seen["reaches"]] == [
        ("added", "settled", 1), ("removed", "paid", 1),
    ]  # fmt: skip
    refused = await admin.post("/pipelines", json=renamed)
    assert (refused.status_code, refused.json()["errors"]) == (422, [removed])
    malformed = await admin.post("/pipelines", json=renamed, params={"stage_move": "paid"})
    assert malformed.json()["errors"] == ["query.stage_move 'paid': write it OLD=NEW, e.g. review=paid"]
    assert await _versions(deps.engine) == [1]
    stored = await admin.post("/pipelines", json=renamed, params={"stage_move": "paid=settled"})
    assert (stored.status_code, stored.json()["version"]["number"]) == (201, 2)


async def test_rules_are_moved_to_another_pipeline_item_by_item(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await admin.post("/pipelines", json=SHOP)
    stages = [{"id": "start", "title": "Start"}, {"id": "done", "title": "Done", "final": "success"}]
    await admin.post("/pipelines", json={"id": "other", "title": "Other", "stages": stages})
    request = {"items": [{"kind": "rule", "stage": "new", "number": 1}, {"kind": "trigger", "stage": "paid",
               "number": 3}], "to_pipeline": "other", "to_stage": "start", "move": True}  # fmt: skip
    answer = (await admin.post("/pipelines/shop/copy", json=request)).json()
    assert answer["went"] == [{"kind": "rule", "stage": "new", "number": 1}]
    assert answer["refused"] == ["trigger 3 of stage 'paid': stage 'paid' has 1 trigger(s)"]
    assert [(v["pipeline_id"], v["number"]) for v in answer["versions"]] == [("other", 2), ("shop", 2)]

    def rules(version: dict[str, Any]) -> list[Any]:
        return list(version["definition"]["stages"][0]["rules"])

    moved = rules((await admin.get("/pipelines/other/versions/2")).json())
    assert moved == rules((await admin.get("/pipelines/shop/versions/1")).json())  # all of it, as it was
    assert rules((await admin.get("/pipelines/shop/versions/2")).json()) == []
    elsewhere = bearer(await new_key(deps.engine, "admin", pipelines=["shop"]))
    async with httpx.AsyncClient(base_url=str(admin.base_url), headers=elsewhere) as limited:
        refused = await limited.post("/pipelines/shop/copy", json=request)
    assert refused.status_code == 403  # it may not change 'other'
    assert (await admin.post("/pipelines/nope/copy", json=request)).status_code == 404
    nowhere = await admin.post("/pipelines/shop/copy", json={**request, "to_stage": "gone", "move": False})
    assert (nowhere.status_code, nowhere.json()["errors"]) == (422, [
        "rule 1 of stage 'new': stage 'new' has 0 rule(s)",
        "trigger 3 of stage 'paid': stage 'paid' has 1 trigger(s)",
    ])  # fmt: skip
    assert await _versions(deps.engine) == [1, 2]


async def test_a_pipeline_is_linted_without_being_stored(admin: httpx.AsyncClient, deps: WorkerResources) -> None:
    waiting = {**SHOP, "stages": [{"id": "new", "title": "New", "rules": [{"type": "wait"}]}, SHOP["stages"][1]]}
    found = await admin.post("/pipelines/lint", json=waiting)
    assert found.json() == [{
        "severity": "warning", "place": "stages[0].rules[0]",
        "message": "a Wait with no deadline (timeout): it waits for the customer for ever",
    }]  # fmt: skip
    assert (await admin.post("/pipelines/lint", json=SHOP)).json() == []
    invalid = await admin.post("/pipelines/lint", json=UNKNOWN_RULE)
    assert invalid.status_code == 422
    assert await _versions(deps.engine) == []


async def test_constants_are_set_and_unset_through_the_api_of_their_type_only(
    admin: httpx.AsyncClient, deps: WorkerResources
) -> None:
    await admin.post("/pipelines", json={**SHOP, "constants": {"shop_name": "Acme", "free_over": 50}})
    set_ = await admin.put("/pipelines/shop/constants/free_over", json={"value": 75})
    assert (set_.status_code, set_.json()["value"], set_.json()["in_file"]) == (200, 75, 50)
    wrong = await admin.put("/pipelines/shop/constants/free_over", json={"value": "many"})
    assert (wrong.status_code, wrong.json()["errors"]) == (
        422, ["constant 'free_over': it is a number constant: 'many' is not a number"],
    )  # fmt: skip
    unknown = await admin.put("/pipelines/shop/constants/colour", json={"value": "red"})
    assert unknown.json()["errors"] == [
        "pipeline 'shop' declares no constant 'colour' (it declares: free_over, shop_name)"
    ]
    assert (await admin.put("/pipelines/nope/constants/x", json={"value": 1})).status_code == 404
    listed = (await admin.get("/pipelines/shop/constants")).json()
    assert [(c["name"], c["type"], c["value"]) for c in listed] == [
        ("shop_name", "string", "Acme"),
        ("free_over", "number", 75),
    ]
    assert (await admin.delete("/pipelines/shop/constants/free_over")).status_code == 204
    assert (await admin.delete("/pipelines/shop/constants/free_over")).status_code == 404
    async with session(deps.engine) as db:
        assert [r.action for r in await audit_log(db, ["constant_set", "constant_unset"])] == [
            "constant_set", "constant_unset",
        ]  # fmt: skip
