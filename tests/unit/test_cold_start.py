"""A process that creates the app loads only what creating it needs: the PDF stack, Alembic and
the providers' SDKs wait until a PDF is rendered, a migration checked or a provider chosen.
Each probe runs in a fresh interpreter, so what an earlier test imported does not count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# fpdf2 brings numpy, Pillow and fontTools; the providers' SDKs come with their callbacks too.
DEFERRED = ("fpdf", "numpy", "PIL", "fontTools", "alembic", "stripe", "twilio", "sendgrid", "jwt")

PROBE = """
import json, sys
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.entrypoints.flask_app import create_app
environment = json.loads(sys.argv[1])
app = create_app(build_container(Settings.from_env(environment, env_file=None)))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

FAKES = {
    "PAYMENT_PROVIDER": "fake",
    "SMS_PROVIDER": "fake",
    "MAIL_MAILER": "fake",
    "ACCOUNTING_PROVIDER": "fake",
}


def loaded_by_create_app(environment: dict[str, str], folder: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(environment)],
        cwd=folder,  # no .env here
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_create_app_on_the_fakes_in_memory_loads_no_pdf_stack_alembic_sdk_or_sqlalchemy(
    tmp_path: Path,
) -> None:
    loaded = loaded_by_create_app({"DATABASE_URL": "memory://", **FAKES}, tmp_path)

    assert "flask" in loaded  # the probe did create the app
    assert sorted(loaded & {*DEFERRED, "sqlalchemy"}) == []


def test_create_app_on_a_sql_database_loads_sqlalchemy_but_not_alembic_or_the_pdf_stack(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"

    loaded = loaded_by_create_app({"DATABASE_URL": url, **FAKES}, tmp_path)

    assert "sqlalchemy" in loaded
    assert sorted(loaded & set(DEFERRED)) == []


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
