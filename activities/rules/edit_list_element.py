from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._lists import describe, element_key, element_values, list_definition
from activities.rules.base import RuleContext, once
from automation.rule_kinds.edit_list_element import EditListElementParams
from automation.rules import RuleResult
from store.columns import utcnow
from store.lists import get_element


async def run(ctx: RuleContext, params: EditListElementParams) -> RuleResult:
    key = await element_key(ctx, params.key)

    async def act(db: AsyncSession) -> RuleResult:
        definition = await list_definition(db, params.list_id)
        values = await element_values(ctx, definition, params.values)
        element = await get_element(db, definition.id, key, lock=True)
        if element is None:
            return RuleResult(summary=f"not edited: {definition.title} has no element {key!r}", effective=False)
        changed = {name: value for name, value in values.items() if element.values.get(name) != value}
        if not changed:
            return RuleResult(summary=f"{key!r} of {definition.title} already has these values", effective=False)
        element.values, element.updated_at = {**element.values, **changed}, utcnow()
        db.add(element)
        return RuleResult(summary=f"edited {key!r} of {definition.title}: {describe(changed)}")

    # The memo saved with the change: a retry after the commit answers the same and does not
    # write again over an edit another rule made in between.
    return await once(ctx, act)
