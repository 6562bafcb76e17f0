import hashlib
import random
import string

from activities.rules.base import RuleContext
from automation.rule_kinds.generate_code import GenerateCodeParams
from automation.rules import RuleResult

_ALPHABETS = {"#": string.digits, "@": string.ascii_uppercase, "*": string.ascii_uppercase + string.digits}


def generate(pattern: str, seed: str) -> str:
    # Seeded by the run key: a retried activity produces the same code.
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    return "".join(rng.choice(_ALPHABETS[c]) if c in _ALPHABETS else c for c in pattern)


async def run(ctx: RuleContext, params: GenerateCodeParams) -> RuleResult:
    code = generate(params.pattern, ctx.run_key)
    return RuleResult(summary=f"{params.variable} = {code}", variables={params.variable: code})
