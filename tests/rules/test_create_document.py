import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation import tracking
from store.database import session
from store.tables import Document, DocumentTemplate
from tests.rules.conftest import RunRule


@pytest.fixture
async def invoice_template(rule_deps: WorkerResources) -> None:
    async with session(rule_deps.engine) as db:
        db.add(DocumentTemplate(id="invoice", title="Invoice {{ order.number }}",
                                body="<p>{{ customer.name }}: {{ variables.note }}</p>"))  # fmt: skip
        await db.commit()


async def _documents(rule_deps: WorkerResources) -> list[Document]:
    async with session(rule_deps.engine) as db:
        return list(await db.exec(select(Document).where(Document.order_id == "O-1")))


async def test_creates_the_document_once_with_a_tracked_link(
    run_rule: RunRule, rule_deps: WorkerResources, invoice_template: None
) -> None:
    params = {"template_id": "invoice"}
    result = await run_rule("create_document", params, run_key="O-1/2/0", variables={"note": "thanks"})
    again = await run_rule("create_document", params, run_key="O-1/2/0", variables={"note": "thanks"})

    [document] = await _documents(rule_deps)
    assert (document.title, document.html, document.template_id) == (
        "Invoice N-1", "<p>Ada Lovelace: thanks</p>", "invoice"
    )  # fmt: skip
    assert result.variables == again.variables
    assert result.variables["document_id"] == document.id
    token = result.variables["document_url"].rsplit("/", 1)[1]
    assert tracking.verify(rule_deps.settings.tracking_secret, token) == tracking.Tracked(
        kind="document", order_id="O-1", ref=document.id, template_id="invoice"
    )
    assert [(e.type, e.data) for e in result.events] == [
        ("document_created", {"template_id": "invoice", "document_id": document.id})
    ]


async def test_values_are_escaped_in_the_html_and_the_title_can_be_given(
    run_rule: RunRule, rule_deps: WorkerResources, invoice_template: None
) -> None:
    note = "<script>alert('x')</script>"
    await run_rule("create_document", {"template_id": "invoice", "title": "Receipt"}, variables={"note": note})
    [document] = await _documents(rule_deps)
    assert document.title == "Receipt"
    assert document.html == "<p>Ada Lovelace: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>"


async def test_an_unknown_template_is_refused(
    run_rule: RunRule, rule_deps: WorkerResources, invoice_template: None
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("create_document", {"template_id": "offer"})
    assert (refused.value.non_retryable, refused.value.message) == (
        True, "no document template 'offer'; templates: invoice"
    )  # fmt: skip
    assert await _documents(rule_deps) == []
