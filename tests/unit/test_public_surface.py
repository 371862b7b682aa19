"""One public surface: whatever a caller passes to the facade or gets back from it is
importable from `justdriving` itself, and importing it loads no use case and no provider SDK."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any

import justdriving
from justdriving.config import Settings
from justdriving.container import bootstrap


def _classes(hint: Any) -> Iterator[type]:
    """Every class named by a type hint, through unions and generics."""
    if isinstance(hint, type) and not isinstance(hint, types.GenericAlias):
        yield hint
    for argument in typing.get_args(hint):
        yield from _classes(argument)
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        yield origin


def _facade_types() -> set[type]:
    app = bootstrap(Settings.from_env({"DATABASE_URL": "memory://"}, env_file=None))
    found: set[type] = set()
    for name in dir(app):
        member = getattr(app, name)
        if name.startswith("_") or not callable(member) or inspect.isclass(member):
            continue
        method = inspect.unwrap(member)
        try:
            hints = typing.get_type_hints(method)
        except (NameError, TypeError):  # not a use case (a port object, say)
            continue
        for hint in hints.values():
            found |= {c for c in _classes(hint) if c.__module__.startswith("justdriving.")}
    return found


def test_every_name_in_all_is_importable_from_the_package() -> None:
    for name in justdriving.__all__:
        assert getattr(justdriving, name) is not None, name


def test_every_type_the_facade_takes_or_gives_is_exported_from_the_package() -> None:
    missing = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in _facade_types()
        if getattr(justdriving, c.__name__, None) is not c or c.__name__ not in justdriving.__all__
    )
    assert missing == []


def test_importing_the_package_loads_no_use_case_and_no_provider_sdk() -> None:
    probe = (
        "import sys, justdriving; "
        "print(sorted(m for m in sys.modules if m.startswith('justdriving.domain.services') "
        "or m.split('.')[0] in ('stripe', 'twilio', 'sendgrid', 'flask', 'sqlalchemy', 'httpx')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
