from pydantic import Field

from activities.rules._lists import KEY, LIST_ID, element_key, list_definition
from activities.rules._variables import PREFIX_PATTERN, as_variables
from activities.rules.base import RuleContext, RuleType, shorten
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.database import session
from store.lists import get_element


class ReadListElementParams(RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    variables_prefix: str = Field(
        default="list_", pattern=PREFIX_PATTERN, description="variables are named <prefix><field>"
    )


async def read_list_element(ctx: RuleContext, params: ReadListElementParams) -> RuleResult:
    key = await element_key(ctx, params.key)
    async with session(ctx.deps.engine) as db:
        definition = await list_definition(db, params.list_id)
        element = await get_element(db, definition.id, key)
    if element is None:
        return RuleResult(summary=f"not read: {definition.title} has no element {key!r}", effective=False)
    # Every field of the list, so that templates after it see "" rather than nothing.
    variables = as_variables(params.variables_prefix, element.values, definition.fields)
    summary = f"read {key!r} of {definition.title} into {', '.join(variables) or 'no variables'}"
    return RuleResult(summary=shorten(summary, 200), variables=variables)


RULE = RuleType(
    kind="read_list_element",
    title="Read list element",
    description="reads an element of a list into variables for the rules after it; does nothing if it is missing",
    params=ReadListElementParams,
    run=read_list_element,
)
