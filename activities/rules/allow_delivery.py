from activities.rules._shipments import mark_every_shipment
from activities.rules.base import RuleContext
from automation.rule_kinds.allow_delivery import AllowDeliveryParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: AllowDeliveryParams) -> RuleResult:
    return await mark_every_shipment(ctx, "delivery_approved")
