"""A pipeline: its ordered stages, and under each stage its triggers and rules.

Pipelines are written in YAML (see ``examples/``) and validated here; an invalid file
is refused with one line per problem, each naming the exact place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from automation import limits
from automation.conditions import Condition
from automation.delays import Delay
from automation.errors import describe
from automation.events import EVENT_TYPES, TriggerParams, event_type
from automation.files import FileError, parse_yaml, read_text
from automation.models import INSIDE, Slug, StrictFromOutside, Title, Within, check_plain_json, is_inside
from automation.rule_kinds import RULE_KINDS, rule_kind
from automation.rules import RuleKind, RuleParams


def _check_constant(value: Any, limited: bool = True) -> None:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("a constant is a text, a number, true or false, or empty")
    if isinstance(value, str) and len(value) > limits.CONSTANT_CHARS and limited:
        raise ValueError(f"at most {limits.CONSTANT_CHARS} characters")


def _constant(value: Any, info: ValidationInfo) -> Any:
    _check_constant(value, limited=not is_inside(info))
    return value


Constant = Annotated[Any, AfterValidator(_constant)]
"""A text, a number, true or false, or empty (None)."""


def constant_type(value: Any) -> str:
    """The type a constant has by the value the file gives it: what an admin may set it to."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text" if isinstance(value, str) else "any"


def constant_from_text(declared: Any, text: str) -> Any:
    """A value typed on a command line, as the type of the constant it is for: ``12.5`` for a
    number, ``true`` for a boolean, the text itself for a text (``ValueError`` if it is not one)."""
    match constant_type(declared):
        case "number":
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"it is a number constant: {text!r} is not a number") from None
            return int(number) if number.is_integer() and "." not in text else number
        case "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(f"it is a boolean constant: {text!r} is not true or false")
            return text.lower() == "true"
    return text


def constant_problem(declared: Any, value: Any) -> str | None:
    """Why ``value`` cannot replace a constant the file declares as ``declared``; None if it can."""
    try:
        _check_constant(value)
    except ValueError as err:
        return str(err)
    wanted, got = constant_type(declared), constant_type(value)
    if wanted != "any" and value is not None and got != wanted:
        return f"it is a {wanted} constant: {value!r} is not a {wanted}"
    return None


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
    constants: Annotated[dict[ConstantName, Constant], Within(limits.CONSTANTS)] = Field(default_factory=dict)
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

    @property
    def stage_ids(self) -> list[str]:
        return [stage.id for stage in self.stages]

    def stage(self, stage_id: str) -> Stage:
        return self.stages[self.position(stage_id)]

    def position(self, stage_id: str) -> int:
        return self.stage_ids.index(stage_id)


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
