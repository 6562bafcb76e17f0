from activities.rules._lists import describe, element_key, element_values, list_definition
from activities.rules.base import RuleContext
from automation.rule_kinds.create_list_element import CreateListElementParams
from automation.rules import RuleResult
from store.database import session
from store.lists import add_element, element_made_by
from store.tables_lists import ListElement


async def run(ctx: RuleContext, params: CreateListElementParams) -> RuleResult:
    key = await element_key(ctx, params.key)
    async with session(ctx.deps.engine) as db:
        definition = await list_definition(db, params.list_id)
        values = await element_values(ctx, definition, params.values)
        await add_element(db, ListElement(list_id=definition.id, key=key, values=values, run_key=ctx.run_key))
        await db.commit()
        # Keyed by run_key: found whether this attempt inserted it or an earlier one did.
        element = await element_made_by(db, ctx.run_key)
    if element is None:
        return RuleResult(summary=f"not created: {definition.title} already has an element {key!r}", effective=False)
    return RuleResult(summary=f"created {element.key!r} in {definition.title}: {describe(element.values)}")
