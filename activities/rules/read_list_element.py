from activities.rules._lists import element_key, list_definition
from activities.rules._variables import as_variables
from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.read_list_element import ReadListElementParams
from automation.rules import RuleResult
from store.database import session
from store.lists import get_element


async def run(ctx: RuleContext, params: ReadListElementParams) -> RuleResult:
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
