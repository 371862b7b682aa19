"""Domain aggregates to JSON documents and back, with a private cattrs converter.

The domain knows nothing of this: rows hold a few indexed columns for queries and the whole
aggregate as a document. Recorded domain events are transient and never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from justdriving.domain.events import EventLog

T = TypeVar("T")


def _converter() -> cattrs.Converter:
    converter = make_converter()
    converter.register_unstructure_hook(datetime, lambda d: d.astimezone(UTC).isoformat())
    converter.register_structure_hook(datetime, lambda v, _: _aware(datetime.fromisoformat(v)))
    converter.register_unstructure_hook(time, lambda t: t.isoformat())
    converter.register_structure_hook(time, lambda v, _: time.fromisoformat(v))
    converter.register_unstructure_hook(timedelta, lambda d: d.total_seconds())
    converter.register_structure_hook(timedelta, lambda v, _: timedelta(seconds=v))
    converter.register_unstructure_hook(EventLog, lambda _: None)
    converter.register_structure_hook(EventLog, lambda _, __: EventLog())
    converter.register_structure_hook_func(_is_mapping_of_any, lambda v, _: dict(v))
    return converter


def _is_mapping_of_any(type_: Any) -> bool:
    origin = getattr(type_, "__origin__", None)
    args: tuple[Any, ...] = tuple(getattr(type_, "__args__", ()))
    return origin in (Mapping, dict) and args[-1:] == (Any,)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_CONVERTER = _converter()


def to_document(item: object) -> dict[str, Any]:
    document = _CONVERTER.unstructure(item)
    assert isinstance(document, dict)
    document.pop("events", None)
    return document


def from_document(document: Mapping[str, Any], cls: type[T]) -> T:
    return _CONVERTER.structure(dict(document), cls)
