"""A pipeline: its ordered stages, and under each stage its triggers and rules.

Pipelines are written in YAML (see ``examples/``) and validated here; an invalid file
is refused with one line per problem, each naming the exact place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from automation import limits
from automation.conditions import Condition
from automation.delays import Delay
from automation.errors import describe
from automation.events import EVENT_TYPES, TriggerParams, event_type
from automation.files import FileError, parse_yaml, read_text
from automation.models import INSIDE, Slug, StrictFromOutside, Title, Within, check_plain_json, is_inside, json_size
from automation.references import reads, sets
from automation.rule_kinds import RULE_KINDS, rule_kind
from automation.rules import RuleKind, RuleParams
from automation.variables import Declaration, inferred


def _constant_entry(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, dict | Declaration):
        return Declaration.model_validate(value, context=info.context)
    if not is_inside(info):
        inferred(value)  # refuses what no type holds, and a text over the limit
    return value


ConstantEntry = Annotated[Any, AfterValidator(_constant_entry)]
"""A constant as the file gives it: a declaration (its type, a default...) or a plain value
(a text, a number, true or false, or empty), whose type is the value's."""


ConstantName = Annotated[str, Within(limits.SLUG_CHARS, pattern=r"[A-Za-z_]\w*")]


class TriggerSpec(StrictFromOutside):
    """Moves the order to the stage it sits in when a matching event arrives."""

    type: str = Field(description="an event type of the catalog")
    title: Title | None = None
    allow_back: bool = Field(default=False, description='"allow moving to a previous status"')
    params: SerializeAsAny[TriggerParams] = Field(default=None, validate_default=True)
    condition: Condition | None = Field(default=None, description="on order and event values")

    @field_validator("type")
    @classmethod
    def _known_type(cls, name: str) -> str:
        event_type(name)
        return name

    @field_validator("params", mode="before")
    @classmethod
    def _typed_params(cls, value: Any, info: ValidationInfo) -> TriggerParams:
        name = info.data.get("type")
        model = EVENT_TYPES[name].params if name in EVENT_TYPES else TriggerParams
        return _as_model(model, value, info)

    @property
    def label(self) -> str:
        return self.title or EVENT_TYPES[self.type].title


class RuleUnavailable(ValueError):
    """A running order's rule that this version of the engine cannot run: its kind is gone,
    or its parameters no longer fit the kind's model. The rule fails; the order goes on."""


class RuleSpec(StrictFromOutside):
    """An action that runs when the order enters the rule's stage.

    Its ``params`` are plain data: checked against the kind's model when a pipeline file is
    loaded, and kept as they were validated then. A running order's copy is never checked
    again (``params_model`` checks it when the rule comes to run), so that a change to a
    rule kind cannot make an order's state unreadable."""

    type: str = Field(description="a rule type of automation/rule_kinds/")
    title: Title | None = None
    after_previous: bool = Field(default=False, description="run when the rule above finished")
    delay: Delay | None = None
    condition: Condition | None = Field(default=None, description="checked when the rule is due")
    params: dict[str, Any] = Field(default_factory=dict, validate_default=True)

    @field_validator("type")
    @classmethod
    def _known_type(cls, name: str, info: ValidationInfo) -> str:
        if not is_inside(info):
            rule_kind(name)
        return name

    @field_validator("params", mode="before")
    @classmethod
    def _typed_params(cls, value: Any, info: ValidationInfo) -> Any:
        if is_inside(info):
            return value
        kind = RULE_KINDS.get(info.data.get("type", ""))
        model: type[RuleParams] = kind.params if kind is not None else RuleParams
        return _as_model(model, value, info).model_dump(mode="json")

    @property
    def kind(self) -> RuleKind[Any] | None:
        return RULE_KINDS.get(self.type)

    @property
    def label(self) -> str:
        return self.title or (self.kind.title if self.kind else self.type)

    def runnable(self) -> tuple[RuleKind[Any], RuleParams]:
        """Its kind and its params as the kind's model, as this version of the engine runs
        it; ``RuleUnavailable`` says why it cannot."""
        kind = self.kind
        if kind is None:
            raise RuleUnavailable(f"this version of the engine has no rule type {self.type!r}")
        try:
            params: RuleParams = kind.params.model_validate(self.params, context=INSIDE)
        except ValidationError as err:
            raise RuleUnavailable(f"its parameters no longer fit {self.type}: " + "; ".join(describe(err))) from None
        return kind, params

    def params_model(self) -> RuleParams:
        return self.runnable()[1]


M = TypeVar("M", bound=BaseModel)


def _as_model(model: type[M], value: Any, info: ValidationInfo) -> M:
    if isinstance(value, BaseModel) and not isinstance(value, model):
        value = value.model_dump()
    return model.model_validate({} if value is None else value, context=info.context)


class Stage(StrictFromOutside):
    id: Slug
    title: str = Field(min_length=1, max_length=limits.TITLE_CHARS)
    final: Literal["success", "failure"] | None = Field(
        default=None, description="the success stage, or a failure stage after it"
    )
    triggers: Annotated[list[TriggerSpec], Within(limits.TRIGGERS_PER_STAGE)] = Field(default_factory=list)
    rules: Annotated[list[RuleSpec], Within(limits.RULES_PER_STAGE)] = Field(default_factory=list)

    def branches(self) -> list[list[int]]:
        """Rule indexes grouped in parallel branches: each rule with ``after_previous``
        joins the branch of the rule above it; any other rule starts a new one."""
        branches: list[list[int]] = []
        for index, rule in enumerate(self.rules):
            if rule.after_previous and branches:
                branches[-1].append(index)
            else:
                branches.append([index])
        return branches


class Pipeline(StrictFromOutside):
    id: Slug
    title: str = Field(min_length=1, max_length=limits.TITLE_CHARS)
    constants: Annotated[dict[ConstantName, ConstantEntry], Within(limits.CONSTANTS)] = Field(
        default_factory=dict, description="the pipeline's values, an admin can change them without editing the file"
    )
    variables: Annotated[dict[ConstantName, Declaration], Within(limits.VARIABLES)] = Field(
        default_factory=dict, description="each order's values, set by rules; a name alone declares a text"
    )
    stages: Annotated[list[Stage], Within(limits.STAGES)] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Pipeline:
        if is_inside(info):  # a running order's copy: checked when it was loaded
            return self
        problems: list[InitErrorDetails] = []
        try:  # what orders carry: far below a Temporal payload
            check_plain_json(self.model_dump(mode="json"), "the pipeline", limits.PIPELINE_BYTES)
        except ValueError as err:
            raise PydanticCustomError("pipeline", str(err)) from None

        def problem(loc: tuple[str | int, ...], message: str, value: Any) -> None:
            error = PydanticCustomError("pipeline", message)
            problems.append(InitErrorDetails(type=error, loc=loc, input=value))

        ids = [stage.id for stage in self.stages]
        for i, stage in enumerate(self.stages):
            if stage.id in ids[:i]:
                problem(("stages", i, "id"), f"duplicate stage id {stage.id!r}", stage.id)
            for r, rule in enumerate(stage.rules):
                try:
                    references = rule.params_model().stage_references()
                except RuleUnavailable as err:  # only a pipeline built in code, bypassing the file's checks
                    problem(("stages", i, "rules", r), str(err), rule.type)
                    continue
                for ref in references:
                    if ref not in ids:
                        problem(("stages", i, "rules", r, "params"), f"unknown stage {ref!r}", ref)
        for loc, message in self._undeclared():
            problem(loc, message, None)
        if (size := json_size(self.variable_defaults())) > limits.VARIABLE_DEFAULTS_BYTES:
            problem(("variables",), f"the defaults are {size:,} bytes of JSON; at most "
                    f"{limits.VARIABLE_DEFAULTS_BYTES:,}, to leave the order's variables room", None)  # fmt: skip
        finals = [stage.final for stage in self.stages]
        if finals.count("success") != 1:
            problem(("stages",), "exactly one stage must be final: success", None)
        elif finals[0] is not None:
            problem(("stages", 0, "final"), "the first stage is where orders start: it cannot be final", finals[0])
        else:
            success = finals.index("success")
            for i, final in enumerate(finals):
                if final == "failure" and i < success:
                    problem(("stages", i, "final"), "failure stages come after the success stage", final)
                if final is None and i > success:
                    problem(("stages", i, "final"), "stages after the success stage must be failure stages", final)
        if problems:
            raise ValidationError.from_exception_data("Pipeline", problems)
        return self

    def _undeclared(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Variables and constants that templates and conditions read and the pipeline does
        not declare (a variable a rule sets counts as declared by it), and variables that a
        rule needing a declared type sets."""
        written = [name for stage in self.stages for rule in stage.rules for name in _written(rule)]
        for i, stage in enumerate(self.stages):
            places = [(("stages", i, "triggers", t), reads(None, trigger.condition))
                      for t, trigger in enumerate(stage.triggers)]  # fmt: skip
            places += [(("stages", i, "rules", r), reads(rule.params, rule.condition,
                                                          rule.delay.field if rule.delay else None))
                       for r, rule in enumerate(stage.rules)]  # fmt: skip
            for loc, references in places:
                for root, name in sorted(references):
                    if root == "constants" and name not in self.constants:
                        yield loc, f"constants.{name} is not declared (constants: {_listed(self.constants)})"
                    elif root == "variables" and name not in self.variables and not sets(written, name):
                        yield loc, (f"variables.{name} is not declared (variables: {_listed(self.variables)}) "
                                    "and no rule sets it")  # fmt: skip
            for r, rule in enumerate(stage.rules):
                if rule.kind is not None and rule.kind.params.writes_declared_only:
                    for name in _written(rule):
                        if name not in self.variables:
                            yield (
                                ("stages", i, "rules", r, "params"),
                                f"variables.{name} is not declared: declare it with its type under variables:",
                            )

    @model_serializer(mode="wrap")
    def _without_empty_variables(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A pipeline without variables dumps as it did before they existed: same content hash.
        data: dict[str, Any] = handler(self)
        if not data.get("variables"):
            data.pop("variables", None)
        return data

    def constant(self, name: str) -> Declaration:
        """The declaration of constant ``name`` (a plain value declares its own type)."""
        entry = self.constants[name]
        return entry if isinstance(entry, Declaration) else inferred(entry)

    def constant_values(self) -> dict[str, Any]:
        """Each constant's value as the file gives it (an admin's value replaces it in rules)."""
        return {name: self.constant(name).default for name in self.constants}

    def variable_defaults(self) -> dict[str, Any]:
        """What a new order's variables start as."""
        return {name: d.default for name, d in self.variables.items() if d.default is not None}

    @property
    def stage_ids(self) -> list[str]:
        return [stage.id for stage in self.stages]

    def stage(self, stage_id: str) -> Stage:
        return self.stages[self.position(stage_id)]

    def position(self, stage_id: str) -> int:
        return self.stage_ids.index(stage_id)


def _written(rule: RuleSpec) -> list[str]:
    try:
        return rule.params_model().variables_written()
    except RuleUnavailable:  # reported where the rule's params are checked
        return []


def _listed(names: Any) -> str:
    return ", ".join(sorted(names)) or "none"


class PipelineError(FileError):
    """A pipeline file that cannot be used; ``problems`` has one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(source, "invalid pipeline", problems)


def parse_pipeline(text: str, source: str = "<pipeline>") -> Pipeline:
    try:
        data = parse_yaml(text, source, "invalid pipeline")
    except FileError as err:
        raise PipelineError(source, err.problems) from None
    if not isinstance(data, dict):
        raise PipelineError(source, ["the file must hold a mapping with id, title and stages"])
    try:
        return Pipeline.model_validate(data)
    except ValidationError as err:
        raise PipelineError(source, describe(err)) from None


def load_pipeline(path: str | Path) -> Pipeline:
    try:
        text = read_text(path, "invalid pipeline")
    except FileError as err:
        raise PipelineError(str(path), err.problems) from None
    return parse_pipeline(text, str(path))
