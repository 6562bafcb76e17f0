"""GET /catalog: the rule and trigger types, searchable, with no key needed."""

from __future__ import annotations

import httpx

from automation.catalog import search


async def test_the_catalog_is_searched_by_words_and_group_without_a_key(admin: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=str(admin.base_url)) as anyone:
        found = await anyone.get("/catalog", params={"q": "sms"})
        assert found.status_code == 200
        assert [(e["name"], e["group"]) for e in found.json()] == [
            ("employee_sms", "employees"), ("send_sms", "customer_communication"),
        ]  # fmt: skip
        assert found.json()[1]["parameters"][0] == {
            "name": "text", "type": "text", "required": True, "default": None,
            "description": "at most 200 characters after templating; order values allowed",
        }  # fmt: skip
        triggers = (await anyone.get("/catalog", params={"group": "triggers"})).json()
        assert [e["name"] for e in triggers] == [e.name for e in search("", "triggers")]
        refused = await anyone.get("/catalog", params={"group": "everything"})
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            "query.group: input should be 'employees', 'customer_communication' or 'triggers'"
        ]
        assert (await anyone.get("/catalog", params={"q": "x" * 201})).status_code == 422
