"""The demo is the first thing a new user runs: it must finish and balance to zero."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from justdriving.config import Settings
from justdriving.entrypoints.cli import main
from justdriving.entrypoints.demo import run_demo


def test_the_demo_runs_the_whole_lifecycle_on_sqlite_and_ends_at_a_zero_balance(
    tmp_path: Path,
) -> None:
    output = io.StringIO()
    settings = Settings.from_env(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}, env_file=None
    )

    run_demo(settings, Console(file=output, width=120))

    text = output.getvalue()
    assert "fee 250.00 DKK" in text
    assert "Refund 50.00 DKK: succeeded" in text
    assert "Credit note no. 2 for 50.00 DKK" in text
    assert "│ 250.00 DKK │ 50.00 DKK │ 250.00 DKK │ 50.00 DKK │ 0.00 DKK │" in text


def test_the_cli_reports_a_configuration_error_in_one_line_with_exit_code_2() -> None:
    result = CliRunner().invoke(main, ["demo"], env={"MAIL_PORT": "not-a-port"})

    assert result.exit_code == 2
    assert "MAIL_PORT" in result.output
    assert "Traceback" not in result.output
