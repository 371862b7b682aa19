"""One public surface: whatever a caller passes to the facade or gets back from it is
importable from `justdriving` itself, and importing it loads no use case and no provider SDK."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def test_the_table_of_lazy_names_all_and_the_type_checking_imports_agree() -> None:
    """One table says where each public name lives; the TYPE_CHECKING imports (what mypy and
    editors read) must name the same module, and `__all__` every name once."""
    table = justdriving._EXPORTS
    lazy = [name for names in table.values() for name in names]
    tree = ast.parse(Path(justdriving.__file__).read_text(encoding="utf-8"))
    (checking,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    seen = {
        alias.name: node.module
        for node in checking.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }

    assert sorted(justdriving.__all__) == sorted({*lazy, "__version__", "bootstrap"})
    assert len(lazy) == len(set(lazy))
    assert seen == {name: module for module, names in table.items() for name in names}


def test_a_public_name_is_its_modules_object_and_an_unknown_one_an_attribute_error() -> None:
    from justdriving import Money as imported
    from justdriving.domain.money import Money

    assert imported is Money is justdriving.Money
    assert "Money" in dir(justdriving)
    with pytest.raises(AttributeError, match="NoSuchName"):
        justdriving.NoSuchName  # type: ignore[attr-defined]  # noqa: B018


def test_every_type_the_facade_takes_or_gives_is_exported_from_the_package() -> None:
    missing = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in _facade_types()
        if getattr(justdriving, c.__name__, None) is not c or c.__name__ not in justdriving.__all__
    )
    assert missing == []


def test_importing_the_package_loads_none_of_its_modules_and_no_provider_sdk() -> None:
    """Each public name's module loads on its first use: `import justdriving` alone reads
    neither the configuration's modules nor the domain's."""
    probe = (
        "import sys, justdriving; "
        "print(sorted(m for m in sys.modules if m.startswith('justdriving.') "
        "or m.split('.')[0] in ('stripe', 'twilio', 'sendgrid', 'flask', 'sqlalchemy', 'httpx', "
        "'attrs', 'cattrs', 'phonenumbers')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
