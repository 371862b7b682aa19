"""`import justdriving` loads no provider SDK, web framework, ORM or queue.

Run in a fresh interpreter so that what other tests imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("stripe", "twilio", "sendgrid", "flask", "sqlalchemy", "celery", "psycopg")

_PROBE = """
import importlib, json, pkgutil, sys

for name in {modules!r}:
    module = importlib.import_module(name)
    if {walk!r} and hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix=name + "."):
            importlib.import_module(info.name)

heavy = {heavy!r}
print(json.dumps(sorted(
    loaded for loaded in sys.modules
    if any(loaded == h or loaded.startswith(h + ".") for h in heavy)
)))
"""


def _loaded_after_importing(*modules: str, walk: bool = False) -> list[str]:
    code = _PROBE.format(modules=modules, walk=walk, heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_import_justdriving_loads_no_sdk_or_framework() -> None:
    assert _loaded_after_importing("justdriving") == []


@pytest.mark.parametrize("package", ["justdriving.domain", "justdriving.ports"])
def test_the_inner_hexagon_loads_no_sdk_or_framework(package: str) -> None:
    # every module of the domain (use cases included) and of the ports
    assert _loaded_after_importing(package, walk=True) == []


def test_config_loads_no_sdk_or_framework() -> None:
    assert _loaded_after_importing("justdriving.config") == []


def test_the_container_loads_no_provider_sdk_until_a_provider_is_chosen() -> None:
    # the container imports SQLAlchemy for its engine; each adapter factory imports its SDK
    # only when its provider is built
    loaded = _loaded_after_importing("justdriving.container")
    assert [name for name in loaded if not name.startswith("sqlalchemy")] == []
