"""Use-case arguments, checked once at the facade: each against its annotation, before any work.

`checked(method)` binds a call to the use case's signature and checks every argument against
its type hint with typeguard (unions, generics, protocols, every item of a collection), and
the fields of every attrs value it is given (an InboundSms, a LineItem, SchoolSettings) against
theirs; a mismatch, a missing or an unknown argument becomes InvalidInput naming the use case
and the argument, so a caller never sees an AttributeError or a TypeError from deep inside, and
nothing is read or written before the refusal. Ranges and invariants stay with the domain
values (moments, Money, the attrs validators) that hold them.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, ParamSpec, TypeVar

import attrs
from attrs import fields

from justdriving.domain.errors import InvalidInput

P = ParamSpec("P")
R = TypeVar("R")

MOST_PER_BATCH = 10_000


def checked(method: Callable[P, R], use_case: str | None = None) -> Callable[P, R]:
    """`method` with every argument checked against its annotation first; errors name
    `use_case` (the method's name by default)."""
    signature = inspect.signature(method)
    hints = typing.get_type_hints(method)
    use_case = use_case or method.__name__

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise InvalidInput(f"{use_case}: {error}") from None
        for name, value in bound.arguments.items():
            if signature.parameters[name].kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            _check(use_case, name, value, hints.get(name, Any))
        return method(*args, **kwargs)

    return call


def check_use_cases(target: object) -> None:
    """Replace each public method reachable as an attribute of `target` by its checked form."""
    for name in dir(target):
        if name.startswith("_"):
            continue
        member = getattr(target, name)
        if inspect.ismethod(member) and not hasattr(member, "__wrapped__"):
            setattr(target, name, checked(member, name))


def batch_limit(limit: int, *, most: int = MOST_PER_BATCH) -> int:
    """A batch size a caller asked for: from 1 to `most` (what every backend can LIMIT by)."""
    if not 1 <= limit <= most:
        raise InvalidInput(f"the limit is from 1 to {most}")
    return limit


_PLAIN = frozenset({str, bytes, int})


def _plainly(value: Any, hint: Any) -> bool:
    """Whether `value` is plainly of `hint` without asking typeguard (a hot path's arguments:
    a str for a str, a dict of str to str for a Mapping[str, str])."""
    if hint in _PLAIN:
        return type(value) is hint
    text_map = typing.get_origin(hint) is Mapping and typing.get_args(hint) == (str, str)
    if text_map and isinstance(value, Mapping):
        return all(type(k) is str and type(v) is str for k, v in value.items())
    return False


def _check(use_case: str, name: str, value: Any, hint: Any, depth: int = 0) -> None:
    if _plainly(value, hint):
        return
    # typeguard is imported on the first use case called, not when the facade is built.
    from typeguard import CollectionCheckStrategy, TypeCheckError, check_type

    refusal = f"{use_case}: {name} must be {_describe(hint)}, not {type(value).__name__}"
    if isinstance(value, bool) and not _admits_bool(hint):
        raise InvalidInput(refusal)
    try:
        check_type(value, hint, collection_check_strategy=CollectionCheckStrategy.ALL_ITEMS)
    except TypeCheckError as error:
        collection = isinstance(value, Collection) and not isinstance(value, str | bytes)
        if collection and "union" not in str(error):
            refusal += f" ({_describe(' '.join(str(error).split()))})"
        raise InvalidInput(refusal) from None
    if depth < _DEEPEST:
        for part_name, part, part_hint in _parts(value):
            _check(use_case, f"{name}.{part_name}", part, part_hint, depth + 1)


_DEEPEST = 4  # SchoolSettings -> account_map -> AccountMapping -> its fields


def _parts(value: Any) -> list[tuple[str, Any, Any]]:
    """The fields of an attrs value, and the attrs values inside a collection, to check too."""
    if attrs.has(type(value)):
        hints = _field_hints(type(value))
        return [
            (f.name, getattr(value, f.name), hints.get(f.name, Any)) for f in fields(type(value))
        ]
    if isinstance(value, Mapping):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        return []
    return [(f"[{i}]", item, type(item)) for i, item in enumerate(items) if attrs.has(type(item))]


_FIELD_HINTS: dict[type, dict[str, Any]] = {}


def _field_hints(cls: type) -> dict[str, Any]:
    if cls not in _FIELD_HINTS:
        try:
            _FIELD_HINTS[cls] = typing.get_type_hints(cls)
        except (NameError, TypeError):  # a hint only a type checker resolves: check none
            _FIELD_HINTS[cls] = {}
    return _FIELD_HINTS[cls]


def _admits_bool(hint: Any) -> bool:
    """True when `hint` names bool itself (int admits bool to Python, not to a use case)."""
    if hint in (bool, Any, object):
        return True
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_admits_bool(arg) for arg in typing.get_args(hint))
    return False


def _describe(hint: Any) -> str:
    """`Money`, `SchoolSettings | None`, `Sequence[str]`: a hint without its module paths."""
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    return _MODULE_PATH.sub("", text)


_MODULE_PATH = re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)+(?=[A-Za-z_])")
