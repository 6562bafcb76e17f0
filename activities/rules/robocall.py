from activities.rules._messaging import customer_phone, deliver, no_phone
from activities.rules._outbox import unconfirmed
from activities.rules.base import RuleContext, refuse, shorten
from automation.rule_kinds.robocall import RobocallParams
from automation.rules import RuleResult
from providers.telephony import MAX_TWIML, play, say


async def _twiml(ctx: RuleContext, params: RobocallParams) -> tuple[str, str]:
    """What the call does, as TwiML, and a line for the timeline."""
    if params.mp3_url is not None:
        return play(params.mp3_url), params.mp3_url
    text = (await ctx.render(params.text or "")).strip()
    if not text:
        raise refuse("the call's text is empty after templating")
    twiml = say(text, voice=params.voice, language=params.language, rate=params.speech_rate, volume=params.volume)
    if len(twiml) > MAX_TWIML:
        raise refuse(f"the call's text is too long after templating ({len(twiml)} of {MAX_TWIML} characters of TwiML)")
    return twiml, text


async def run(ctx: RuleContext, params: RobocallParams) -> RuleResult:
    twiml, said = await _twiml(ctx, params)
    voice = ctx.deps.providers.voice(ctx.deps.settings)
    voice.caller(params.line)  # an unknown line is refused before anything is recorded
    phone = await customer_phone(ctx, params.phone_type)
    if phone is None:
        return no_phone(params.phone_type)

    async def call(to: str, body: str, key: str) -> str:
        return await voice.call(to, params.line, body, key)

    row = await deliver(ctx, "call", phone, twiml, call, subject=f"line {params.line}")
    summary = f"robocall to {row.recipient} from line {params.line} ({row.message_id}): {shorten(said)}"
    return unconfirmed(row, "robocall") or RuleResult(summary=summary)
