"""Parameter pieces several rule kinds share (a module starting with ``_`` is no rule kind)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field

from automation.delays import Duration
from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleParams
from automation.templating import Template, check_template

AUTO = "auto"
"""Where a rule picks one of the customer's phones or addresses: the first one."""

PREFIX_PATTERN = r"^[A-Za-z_]\w{0,39}$"
"""A prefix that keeps ``variables.<prefix><field>`` a plain name in templates."""


def fields_parameter(choices: Any, of: str) -> Any:
    """The ``fields`` parameter of the rules that read a record into variables: some of the
    ``choices`` (a Literal), all of them by default."""
    names = list(get_args(choices))
    return Field(
        default_factory=lambda: list(names), min_length=1, description=f"which fields of {of}: " + ", ".join(names)
    )


def prefix_parameter(default: str) -> Any:
    """The ``variables_prefix`` parameter of the rules that read a record into variables."""
    return Field(default=default, pattern=PREFIX_PATTERN, description="variables are named <prefix><field>")


class IntoVariables:
    """Mixed into the params of a rule that reads a record into variables named
    ``<prefix><field>`` (each declares its ``variables_prefix`` where it wants it listed)."""

    if TYPE_CHECKING:  # not a field here: pydantic would list it first
        variables_prefix: str

    def variables_written(self) -> list[str]:
        return [self.variables_prefix + "*"]


SMS_MAX_CHARS = 200
"""The longest SMS text, after templating."""
SmsProviderName = Literal["twilio"]

LIST_ID = "which list: its id in the directory file's lists:"
KEY = "the element's key in the list, unique there; order values allowed"

ElementValue = Template | bool | int | float | None
"""A value a pipeline gives a list element's field: text is a template, rendered when the
rule runs and then read as the field's type; numbers, booleans and null are kept as they are."""


def _check_text(value: str | bool | int | float | None) -> str | bool | int | float | None:
    return check_template(value) if isinstance(value, str) else value


FieldValue = Annotated[str | bool | int | float | None, AfterValidator(_check_text)]
"""A value a pipeline sets in an order field: text is a template, rendered when the rule
runs; numbers, booleans and null are kept as they are."""

RESERVED_FIELDS = ("id", "stage", "pipeline", "customer_id", "responsible_id", "last_channel_id")
"""Names the engine itself fills in the order's values: a field of that name would never be
seen (Change status and Change responsible set the stage and the responsible)."""


def check_names(names: Iterable[str]) -> None:
    """Refuses reserved field names, naming them (for params validators: refused at load)."""
    reserved = [name for name in names if name in RESERVED_FIELDS]
    if reserved:
        listed = ", ".join(repr(name) for name in reserved)
        raise ValueError(f"{listed}: reserved by the engine; these order fields cannot be set")


class ScheduleParams(RuleParams):
    """The parameters of Schedule call and Schedule meeting."""

    subject: Template = Field(min_length=1, max_length=255)
    description: Template = Field(default="", max_length=5000)
    with_whom: Template = Field(
        default="{{ customer.name }}", max_length=255, description="who with; order values allowed"
    )
    starts_in: Duration = Field(ge=timedelta(0), description="when it starts, counted from now, e.g. 1d or 2h30m")
    duration: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0), description="how long, e.g. 30m")
    assignee_id: LooseId = Field(default=RESPONSIBLE, description="who takes part; 'responsible' = the order's")


class SmsParams(RuleParams):
    """What Send SMS and SMS to an employee share; each adds whom it goes to."""

    text: Template = Field(
        min_length=1,
        max_length=SMS_MAX_CHARS,
        description=f"at most {SMS_MAX_CHARS} characters after templating; order values allowed",
    )
    provider: SmsProviderName = Field(default="twilio", description="the SMS provider (its account is in settings)")
