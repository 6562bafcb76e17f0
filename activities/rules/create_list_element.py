from pydantic import Field

from activities.rules._lists import KEY, LIST_ID, ElementValue, describe, element_key, element_values, list_definition
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.database import session
from store.lists import add_element, element_made_by
from store.tables_lists import ListElement


class CreateListElementParams(RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    values: dict[str, ElementValue] = Field(
        default_factory=dict, description="field -> value (text may use order values), checked against the list's types"
    )


async def create_list_element(ctx: RuleContext, params: CreateListElementParams) -> RuleResult:
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


RULE = RuleType(
    kind="create_list_element",
    title="Create list element",
    description="adds an element to a list an admin defined; does nothing if the key is taken there",
    params=CreateListElementParams,
    run=create_list_element,
)
