import uuid

from pydantic import Field

import tracking
from activities.rules.base import RuleContext, RuleType
from automation.rules import RaisedEvent, RuleParams, RuleResult
from automation.templating import Template
from store.tables import Document


class CreateDocumentParams(RuleParams):
    template_id: str = Field(min_length=1, max_length=64, description="names the template; triggers match on it")
    title: Template = Field(min_length=1, max_length=255)
    body: Template = Field(min_length=1, max_length=100_000, description="HTML; order values allowed")


async def create_document(ctx: RuleContext, params: CreateDocumentParams) -> RuleResult:
    # The id follows from the run key: a retried run finds the document it made.
    document_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"document:{ctx.run_key}"))
    title = ctx.render(params.title)
    await ctx.write_once(
        Document(
            id=document_id,
            run_key=ctx.run_key,
            order_id=ctx.order_id,
            template_id=params.template_id,
            title=title,
            html=ctx.render(params.body),
        )
    )
    settings = ctx.deps.settings
    mark = tracking.Tracked(kind="document", order_id=ctx.order_id, ref=document_id, template_id=params.template_id)
    link = tracking.url(settings.public_url, settings.tracking_secret, mark)
    created = RaisedEvent(type="document_created", data={"template_id": params.template_id, "document_id": document_id})
    return RuleResult(
        summary=f"document {title!r} created",
        variables={"document_url": link, "document_id": document_id},
        events=[created],
    )


RULE = RuleType(
    kind="create_document",
    title="Create document",
    description="makes an HTML document from a template, with a tracked link to it",
    params=CreateDocumentParams,
    run=create_document,
)
