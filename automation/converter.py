"""The data converter every client and worker of the engine uses: Temporal's pydantic
converter, reading payloads with the ``INSIDE`` context.

Whatever the converter reads, the engine wrote itself (a workflow's input and state, an
activity's input and result, a query's answer), so it is read tolerantly: a field a later
version dropped is ignored and a limit added since is not enforced, and no deployment can
make a running order's own history unreadable. Input from outside (an event, a new
order) reaches the workflow as plain JSON, which the workflow validates strictly itself.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

from automation.models import INSIDE


@functools.lru_cache(maxsize=1024)
def _adapter(type_hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(type_hint)


class _OwnJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        hint: Any = type_hint if type_hint is not None else Any
        try:
            adapter = _adapter(hint)
        except TypeError:  # an unhashable type hint: no cache for it
            adapter = TypeAdapter(hint)
        return adapter.validate_json(payload.data, context=INSIDE)


_CONVERTERS = tuple(
    _OwnJSONPayloadConverter() if isinstance(converter, JSONPlainPayloadConverter) else converter
    for converter in DefaultPayloadConverter.default_encoding_payload_converters
)


class EnginePayloadConverter(CompositePayloadConverter):
    # The SDK makes one of these for each workflow activation: the converters, which hold
    # no state, are made once.
    def __init__(self) -> None:
        super().__init__(*_CONVERTERS)


data_converter = DataConverter(payload_converter_class=EnginePayloadConverter)
