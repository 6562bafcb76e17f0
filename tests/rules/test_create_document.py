from sqlmodel import select

import tracking
from store.database import session
from store.tables import Document


async def test_creates_the_document_once_with_a_tracked_link(run_rule, rule_deps):
    params = {"template_id": "invoice", "title": "Invoice {{ order.number }}", "body": "<p>{{ customer.name }}</p>"}
    result = await run_rule("create_document", params, run_key="O-1/2/0")
    again = await run_rule("create_document", params, run_key="O-1/2/0")

    async with session(rule_deps.engine) as db:
        [document] = list(await db.exec(select(Document).where(Document.order_id == "O-1")))
    assert (document.title, document.html, document.template_id) == ("Invoice N-1", "<p>Ada Lovelace</p>", "invoice")
    assert result.variables == again.variables
    assert result.variables["document_id"] == document.id
    token = result.variables["document_url"].rsplit("/", 1)[1]
    assert tracking.verify(rule_deps.settings.tracking_secret, token) == tracking.Tracked(
        kind="document", order_id="O-1", ref=document.id, template_id="invoice"
    )
    assert [(e.type, e.data) for e in result.events] == [
        ("document_created", {"template_id": "invoice", "document_id": document.id})
    ]
