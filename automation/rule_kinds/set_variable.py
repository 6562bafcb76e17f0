"""The core spec of this rule type; its activity is activities/rules/set_variable.py."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from automation.rule_kinds._parts import FieldValue
from automation.rules import RuleKind, RuleParams
from automation.variables import Operation


class SetVariableParams(RuleParams):
    writes_declared_only: ClassVar[bool] = True

    variable: str = Field(pattern=r"^[A-Za-z_]\w*$", description="a variable the pipeline declares (variables:)")
    value: FieldValue = Field(
        default=None,
        description="the new value, or what the arithmetic starts from; a template is read as the variable's "
        "type; empty: the variable's value now",
    )
    operation: Operation = Field(default="set", description="set, or add, subtract, multiply, divide by 'by'")
    by: FieldValue = Field(
        default=None, description="a number, or for a date a duration (3d, 12h; a number is days); templates allowed"
    )

    @model_validator(mode="after")
    def _by_with_arithmetic(self) -> SetVariableParams:
        if self.operation == "set" and self.by is not None:
            raise ValueError("'by' goes with add, subtract, multiply or divide, not with set")
        if self.operation != "set" and self.by is None:
            raise ValueError(f"{self.operation} needs 'by': what to {self.operation}")
        if self.operation == "set" and self.value is None:
            raise ValueError("set needs a value (or an operation on the variable's value now)")
        return self

    def variables_written(self) -> list[str]:
        return [self.variable]


KIND = RuleKind(
    name="set_variable",
    title="Set variable",
    description="sets a variable of the order to a value, or by simple arithmetic on numbers and dates",
    params=SetVariableParams,
    store_only=True,
)
