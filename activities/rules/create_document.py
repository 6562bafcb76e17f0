import uuid

from sqlmodel import col, select

from activities.rules.base import RuleContext, refuse
from automation import limits, tracking
from automation.rule_kinds.create_document import CreateDocumentParams
from automation.rules import RaisedEvent, RuleResult
from store.database import session
from store.tables import Document, DocumentTemplate


async def _template(ctx: RuleContext, template_id: str) -> DocumentTemplate:
    async with session(ctx.deps.engine) as db:
        template = await db.get(DocumentTemplate, template_id)
        if template is None:
            known = list(await db.exec(select(DocumentTemplate.id).order_by(col(DocumentTemplate.id))))
            raise refuse(f"no document template {template_id!r}; templates: {', '.join(known) or 'none'}")
    return template


async def run(ctx: RuleContext, params: CreateDocumentParams) -> RuleResult:
    template = await _template(ctx, params.template_id)
    # The id follows from the run key: a retried run finds the document it made.
    document_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"document:{ctx.run_key}"))
    title = await ctx.render(params.title or template.title)
    await ctx.write_once(
        Document(
            id=document_id,
            run_key=ctx.run_key,
            order_id=ctx.order_id,
            template_id=params.template_id,
            title=title,
            html=await ctx.render(template.body, html=True, most=limits.DOCUMENT_CHARS),
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
