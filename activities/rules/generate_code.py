import hashlib
import random
import string

from pydantic import Field

from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult

_ALPHABETS = {"#": string.digits, "@": string.ascii_uppercase, "*": string.ascii_uppercase + string.digits}


class GenerateCodeParams(RuleParams):
    pattern: str = Field(
        min_length=1,
        max_length=64,
        description="# = digit, @ = letter, * = letter or digit; anything else stays as is",
    )
    variable: str = Field(default="code", pattern=r"^[A-Za-z_]\w*$", description="the variable it is stored in")


def generate(pattern: str, seed: str) -> str:
    # Seeded by the run key: a retried activity produces the same code.
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    return "".join(rng.choice(_ALPHABETS[c]) if c in _ALPHABETS else c for c in pattern)


async def generate_code(ctx: RuleContext, params: GenerateCodeParams) -> RuleResult:
    code = generate(params.pattern, ctx.run_key)
    return RuleResult(summary=f"{params.variable} = {code}", variables={params.variable: code})


RULE = RuleType(
    kind="generate_code",
    title="Generate code",
    description="generates a code by a pattern into a variable for the rules after it",
    params=GenerateCodeParams,
    run=generate_code,
)
