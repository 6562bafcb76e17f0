"""The core spec of this rule type; its activity is activities/rules/generate_code.py."""

from __future__ import annotations

from pydantic import Field

from automation.rules import RuleKind, RuleParams


class GenerateCodeParams(RuleParams):
    pattern: str = Field(
        min_length=1,
        max_length=64,
        description="# = digit, @ = letter, * = letter or digit; anything else stays as is",
    )
    variable: str = Field(default="code", pattern=r"^[A-Za-z_]\w*$", description="the variable it is stored in")

    def variables_written(self) -> list[str]:
        return [self.variable]


KIND = RuleKind(
    name="generate_code",
    title="Generate code",
    description="generates a code by a pattern into a variable for the rules after it",
    params=GenerateCodeParams,
    store_only=True,
)
