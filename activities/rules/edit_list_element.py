from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._lists import KEY, LIST_ID, ElementValue, describe, element_key, element_values, list_definition
from activities.rules.base import RuleContext, RuleType, once
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.columns import utcnow
from store.lists import get_element


class EditListElementParams(RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    values: dict[str, ElementValue] = Field(
        min_length=1, description="field -> new value (text may use order values); other fields are kept"
    )


async def edit_list_element(ctx: RuleContext, params: EditListElementParams) -> RuleResult:
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


RULE = RuleType(
    kind="edit_list_element",
    title="Edit list element",
    description="sets fields of an element of a list; does nothing if it is missing",
    params=EditListElementParams,
    run=edit_list_element,
)
