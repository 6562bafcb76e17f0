"""Reading the YAML files people write (pipelines, the directory) safely.

PyYAML's safe loader builds no Python objects beyond plain data, but it trusts the file's
shape: an alias may point into itself (a cycle no JSON can hold), a few lines of aliases
may expand to a billion values ("billion laughs"), nesting may exhaust Python's stack, a
number may have thousands of digits. This loader refuses each of those with its line and
column, so that every malformed file ends in one line per problem, in bounded time and
memory, and whatever it accepts can be stored as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from automation import limits


class FileError(ValueError):
    """A file that cannot be used; ``problems`` has one line per problem."""

    def __init__(self, source: str, what: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        super().__init__(f"{source}: {what}\n" + "\n".join(f"  {p}" for p in problems))


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader, counting as it composes: depth, aliases, and every value an alias
    expands to; refusing an alias into its own anchor."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._aliases = 0
        self._open: set[str] = set()
        self._weights: dict[int, int] = {}
        """id(node) -> how many values it stands for, aliases expanded."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > limits.YAML_ALIASES:
                raise ComposerError(None, None, f"more than {limits.YAML_ALIASES} aliases", mark)
            if event.anchor in self._open:
                raise ComposerError(None, None, f"alias *{event.anchor} is inside its own anchor", mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > limits.YAML_DEPTH:
            raise ComposerError(None, None, f"nests more than {limits.YAML_DEPTH} levels", mark)
        anchor = event.anchor if isinstance(event, ScalarEvent | CollectionStartEvent) else None
        if anchor is not None:
            self._open.add(anchor)
        node: Node | None = super().compose_node(parent, index)
        if anchor is not None:
            self._open.discard(anchor)
        self._depth -= 1
        self._weigh(node)
        return node

    def _weigh(self, node: Any) -> None:
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        weight = 1 + sum(self._weights.get(id(child), 1) for child in children)
        if weight > limits.YAML_NODES:
            raise ComposerError(
                None, None, f"more than {limits.YAML_NODES:,} values, with its aliases expanded", node.start_mark
            )
        self._weights[id(node)] = weight

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = str(node.value).lstrip("+-").replace("_", "")
        if len(digits.removeprefix("0x").removeprefix("0o").removeprefix("0b")) > limits.NUMBER_DIGITS:
            raise ConstructorError(None, None, f"a number of more than {limits.NUMBER_DIGITS} digits", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value: float = super().construct_yaml_float(node)
        if value != value or value in (float("inf"), float("-inf")):
            raise ConstructorError(None, None, "numbers must be finite (no .inf, .nan)", node.start_mark)
        return value

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as err:
            raise ConstructorError(None, None, f"not a valid date: {err}", node.start_mark) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)
_LimitedLoader.add_constructor("tag:yaml.org,2002:float", _LimitedLoader.construct_yaml_float)
_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _LimitedLoader.construct_yaml_timestamp)


def parse_yaml(text: str, source: str, what: str) -> Any:
    """The file's data; a FileError names each problem's place (``what``: "invalid pipeline"...)."""
    loader = _LimitedLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise FileError(source, what, [f"{_where(mark)}{err.problem or err.context}"]) from None
    except yaml.YAMLError as err:
        raise FileError(source, what, [str(err)]) from None
    except RecursionError:  # the depth check comes first; this is a last line of defence
        raise FileError(source, what, [f"nests more than {limits.YAML_DEPTH} levels"]) from None
    finally:
        loader.dispose()


def read_text(path: str | Path, what: str) -> str:
    """A file's text: at most ``FILE_BYTES``, UTF-8; a FileError says why not."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(limits.FILE_BYTES + 1)
    except OSError as err:
        raise FileError(source, what, [f"cannot be read: {err.strerror or err}"]) from None
    if len(data) > limits.FILE_BYTES:
        raise FileError(source, what, [f"the file is over {limits.FILE_BYTES:,} bytes"])
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise FileError(source, what, [f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start}"]) from None


def read_yaml(path: str | Path, what: str) -> Any:
    return parse_yaml(read_text(path, what), str(path), what)
