"""A newcomer's first hour, as the README's quick start goes, in real processes: `run` (whose
`/` links everything and whose pay link pays), then `sync-accounting --dry-run` and
`export-accounting` on the demo data with no configuration beyond the quick start, then
`demo` (in memory: the `run` database is left alone) and `worker --once` (which says what it
did)."""

from __future__ import annotations

import csv
import re
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

from test_web_run import BANNER_END, CLI, _environment, _get, started

QUICK_START = {"ACCOUNTING_PROVIDER": "csv"}  # what the README's quick start sets for the sync


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=folder,
        env=_environment(COLUMNS="200", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _schools(folder: Path) -> int:
    with sqlite3.connect(folder / "justdriving.db") as db:
        return int(db.execute("select count(*) from schools").fetchone()[0])


def test_run_then_sync_and_export_the_demo_with_the_quick_starts_settings(
    tmp_path: Path,
) -> None:
    port = _free_port()
    with started(tmp_path, "run", "--port", str(port)) as run:
        run.until(BANNER_END)
        home, pay = run.url("home:"), run.url("pay link:")
        status, landing = _get(home)
        assert status == 200
        # `/` links the invoice: its own signed link (made at another second than the banner's)
        invoice_path = pay.removeprefix(f"http://127.0.0.1:{port}").split(".")[0]
        assert f'href="{invoice_path}.' in landing
        assert 'href="/ops"' in landing
        status, page = _get(pay)
        assert status == 200
        assert "Moms 25 % af 400,00" in page  # the demo invoice, in the school's Danish
        assert run.stop(signal.SIGTERM) == 0

    sync = _cli(tmp_path, "sync-accounting", "--dry-run", **QUICK_START)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert re.search(r"│ csv\s+│ 2\s+│ 0\s+│ 0\s+│", sync.stdout), sync.stdout  # contact, invoice

    xero = _cli(tmp_path, "export-accounting", "--format", "xero", **QUICK_START)
    assert xero.returncode == 0, xero.stdout + xero.stderr
    [written] = re.findall(r"wrote (\S+)", xero.stdout)
    assert Path(written).name.startswith("xero-sales-invoices-koreskolen-demo-tax-inclusive-")
    with (tmp_path / written).open(encoding="utf-8-sig") as file:
        [row] = list(csv.DictReader(file))
    contact = row["*ContactName"]  # named apart from any other Jonas Madsen by our id
    assert re.fullmatch(r"Jonas Madsen \(stu_[0-9a-f]{32}\)", contact), row
    assert row["*InvoiceNumber"] == "1"
    assert (row["*AccountCode"], row["*TaxType"]) == ("200", "OUTPUT")

    ledger = _cli(tmp_path, "export-accounting", "--format", "ledger")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    [written] = re.findall(r"wrote (\S+)", ledger.stdout)
    assert Path(written).name.startswith("ledger-koreskolen-demo-")
    with (tmp_path / written).open(encoding="utf-8-sig") as file:
        assert {line["Contact"] for line in csv.DictReader(file)} == {contact}

    demo = _cli(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "kept in memory" in demo.stdout
    assert _schools(tmp_path) == 1  # the demo wrote no second school into the run database

    once = _cli(tmp_path, "worker", "--once")
    assert once.returncode == 0, once.stderr
    assert once.stdout.startswith("worker: one round done: relayed ")
