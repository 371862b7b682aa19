"""A process that creates the app loads only what creating it needs: `create_app()` checks the
settings and leaves the container (dependency-injector, the adapters), the use cases, the PDF
stack, Alembic and the providers' SDKs to the first request that needs them; `/healthz` needs
none. Each probe runs in a fresh interpreter, so what an earlier test imported does not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# fpdf2 brings numpy, Pillow and fontTools; the providers' SDKs come with their callbacks too.
DEFERRED = ("fpdf", "numpy", "PIL", "fontTools", "alembic", "stripe", "twilio", "sendgrid", "jwt")
# What the first request that needs the application loads: the wiring and the use cases.
WIRING = ("dependency_injector", "justdriving.container", "justdriving.domain.services")
# Loaded by the first request (structlog, binding its id) or the first number masked.
FIRST_REQUEST = ("structlog", "rich", "phonenumbers", "justdriving.domain.events")

PROBE = """
import json, os, sys
from justdriving.entrypoints.flask_app import create_app
environment, requests, given = json.loads(sys.argv[1])
os.environ.update(environment)
if given:  # the caller builds the container, as `justdriving serve` does
    from justdriving.config import Settings
    from justdriving.container import build_container
    app = create_app(build_container(Settings.from_env()))
else:
    app = create_app()
client = app.test_client()
for method, path in requests:
    client.open(path, method=method, data=b"{}")
print(json.dumps(sorted(sys.modules)))
"""

FAKES = {
    "DATABASE_URL": "memory://",
    "PAYMENT_PROVIDER": "fake",
    "SMS_PROVIDER": "fake",
    "MAIL_MAILER": "fake",
    "ACCOUNTING_PROVIDER": "fake",
}


def loaded(
    folder: Path,
    environment: dict[str, str],
    requests: tuple[tuple[str, str], ...] = (),
    *,
    given: bool = False,
) -> set[str]:
    """Every module loaded by a fresh process that creates the app (from `environment`,
    nothing else of ours), then answers `requests`, with each top-level package's name too."""
    bare = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([environment, requests, given])],
        cwd=folder,  # no .env here
        env=bare,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return modules | {name.split(".")[0] for name in modules}


def among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of `names` (a module or a package, with all below it) are in `modules`."""
    return sorted({n for n in names for m in modules if m == n or m.startswith(f"{n}.")})


def test_create_app_in_memory_loads_no_container_use_case_pdf_stack_sdk_or_sqlalchemy(
    tmp_path: Path,
) -> None:
    modules = loaded(tmp_path, FAKES)

    assert "flask" in modules  # the probe did create the app
    assert among(modules, (*WIRING, *DEFERRED, *FIRST_REQUEST, "sqlalchemy")) == []


def test_health_checks_need_none_of_it_and_the_first_request_for_the_application_loads_it(
    tmp_path: Path,
) -> None:
    checked = loaded(tmp_path, FAKES, (("GET", "/healthz"), ("GET", "/readyz")))
    webhook = loaded(tmp_path, FAKES, (("POST", "/webhook/payments/fake"),))

    assert among(checked, (*WIRING, *DEFERRED)) == []
    assert among(webhook, WIRING) == sorted(WIRING)
    assert "justdriving.application" in webhook
    assert among(webhook, DEFERRED) == []  # a webhook renders no PDF and migrates nothing


def test_create_app_on_a_sql_database_checks_its_url_but_loads_no_container_or_alembic(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"

    modules = loaded(tmp_path, {**FAKES, "DATABASE_URL": url})

    assert "sqlalchemy" in modules  # the URL is parsed and its driver found at once
    assert among(modules, (*WIRING, *DEFERRED)) == []


def test_an_app_on_a_container_built_by_its_caller_still_loads_no_pdf_stack_alembic_or_sdk(
    tmp_path: Path,
) -> None:
    modules = loaded(tmp_path, FAKES, (("GET", "/healthz"),), given=True)

    assert "justdriving.application" in modules
    assert among(modules, (*DEFERRED, "sqlalchemy")) == []


@pytest.mark.parametrize("module", ["fpdf", "alembic"])
def test_what_waits_is_still_loaded_when_first_used(module: str, tmp_path: Path) -> None:
    """The probe can see a module load: rendering a PDF loads fpdf, migrating loads Alembic."""
    use = {
        "fpdf": "from justdriving.adapters.documents import FpdfInvoicePdf; FpdfInvoicePdf()",
        "alembic": (
            "from justdriving.adapters.sql.engine import make_engine\n"
            "from justdriving.adapters.sql.schema import upgrade\n"
            f"upgrade(make_engine('sqlite:///{tmp_path / 'migrated.db'}'))"
        ),
    }[module]
    probe = f"import sys\n{use}\nprint({module!r} in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "True"
