"""`import justdriving` loads no provider SDK, web framework, ORM or queue, and no runtime module
loads the simulators (justdriving.testing); the simulators load nothing heavy themselves.

Run in a fresh interpreter so that what other tests imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("stripe", "twilio", "sendgrid", "flask", "sqlalchemy", "celery", "psycopg")
SIMULATORS = ("justdriving.testing",)
# Everything the library runs: every package below the root but the test kit (importing any of
# them runs justdriving/__init__.py too).
RUNTIME = (
    "justdriving.domain",
    "justdriving.ports",
    "justdriving.adapters",
    "justdriving.entrypoints",
    "justdriving.container",
    "justdriving.config",
    "justdriving.logs",
)
PROVIDERS = (
    "stripe",
    "paypal",
    "mobilepay",
    "twilio",
    "gatewayapi",
    "sendgrid",
    "mailgun",
    "xero",
    "quickbooks",
)

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


def _loaded_after_importing(
    *modules: str, walk: bool = False, watched: tuple[str, ...] = HEAVY
) -> list[str]:
    """The modules of `watched` (and below them) loaded after importing `modules`."""
    code = _PROBE.format(modules=modules, walk=walk, heavy=watched)
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


def test_no_runtime_module_loads_the_simulators() -> None:
    # every module of the library, adapters and entrypoints included
    assert _loaded_after_importing(*RUNTIME, walk=True, watched=SIMULATORS) == []


def test_the_simulators_load_no_sdk_or_framework() -> None:
    # an embedding service can use them with `pip install justdriving` and no extra
    assert _loaded_after_importing("justdriving.testing", walk=True) == []


def test_importing_the_test_kit_loads_no_simulator_until_one_is_named() -> None:
    loaded = _loaded_after_importing(
        "justdriving.testing", watched=tuple(f"justdriving.testing.{p}" for p in PROVIDERS)
    )
    assert loaded == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_simulator_is_named_by_the_test_kit_and_by_its_provider_package(
    provider: str,
) -> None:
    import importlib

    import justdriving.testing

    package = importlib.import_module(f"justdriving.testing.{provider}")
    [name] = [name for name in package.__all__ if name.endswith("Simulator")]
    assert getattr(justdriving.testing, name) is getattr(package, name)
    assert name in justdriving.testing.__all__
