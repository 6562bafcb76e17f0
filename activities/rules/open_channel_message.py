from activities.rules._messaging import deliver
from activities.rules._outbox import unconfirmed
from activities.rules.base import RuleContext, refuse, shorten
from automation.rule_kinds.open_channel_message import OpenChannelMessageParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: OpenChannelMessageParams) -> RuleResult:
    # The workflow keeps the channel of the customer's latest chat message in the order.
    channel = ctx.values.get("order", {}).get("last_channel_id")
    if not channel:
        return RuleResult(summary="not sent: the customer has not written in an open channel yet", effective=False)
    text = (await ctx.render(params.text)).strip()
    if not text:
        raise refuse("the message is empty after templating")
    chat = ctx.deps.providers.chat(ctx.deps.settings)

    async def post(to: str, body: str, key: str) -> str:
        return await chat.send(to, body, params.whisper, key)

    subject = "whisper" if params.whisper else ""
    row = await deliver(ctx, "chat", str(channel), text, post, subject=subject, find=chat.find)
    kind = "whisper" if params.whisper else "message"
    summary = f"{kind} in channel {row.recipient} ({row.message_id}): {shorten(row.body)}"
    return unconfirmed(row, kind) or RuleResult(summary=summary)
