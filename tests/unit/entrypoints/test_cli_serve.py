"""`justdriving serve`: gunicorn where it runs, waitress elsewhere; bad settings stop it in
one line with exit 2 before anything listens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from justdriving.config import Settings
from justdriving.entrypoints import cli_serve, run
from justdriving.entrypoints.cli import main


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "DATABASE_URL", "PUBLIC_BASE_URL", "DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def gunicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(cli_serve, "gunicorn_usable", lambda: True)
    monkeypatch.setattr(
        cli_serve, "run_gunicorn", lambda settings, options: started.append(options)
    )
    return started


def serve(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, ["serve", *args], env=env)
    assert "Traceback" not in result.output
    return result


def test_gunicorn_is_usable_here() -> None:
    assert cli_serve.gunicorn_usable()


def test_serve_runs_gunicorn_on_a_migrated_database(
    gunicorn_runs: list[dict[str, Any]], tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'jd.db'}"}
    assert CliRunner().invoke(main, ["migrate"], env=env).exit_code == 0

    result = serve("--host", "0.0.0.0", "--port", "8123", "--workers", "3", env=env)

    assert result.exit_code == 0, result.output
    (options,) = gunicorn_runs
    assert (options["bind"], options["workers"]) == ("0.0.0.0:8123", 3)
    assert (options["proc_name"], options["accesslog"]) == ("justdriving", None)
    # Buffering workers, and gunicorn's lines through justdriving's logging (redacted).
    assert options["worker_class"].endswith("gunicorn_worker.WaitressWorker")
    assert options["logger_class"].endswith("gunicorn_worker.GunicornLogs")


def test_serve_on_the_memory_database_uses_one_worker(
    gunicorn_runs: list[dict[str, Any]],
) -> None:
    result = serve("--host", "::1", env={"DATABASE_URL": "memory://"})

    assert result.exit_code == 0, result.output
    assert gunicorn_runs[0]["workers"] == 1
    assert gunicorn_runs[0]["bind"] == "[::1]:8000"


def test_serve_refuses_an_unmigrated_database_in_one_line(
    gunicorn_runs: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = serve(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "configuration error: the database is not migrated: "
        "DATABASE_URL: run `justdriving migrate` first"
    ]
    assert gunicorn_runs == []


def test_serve_refuses_production_misconfiguration_naming_the_settings(
    gunicorn_runs: list[dict[str, Any]],
) -> None:
    result = serve(env={"APP_ENV": "production", "DEBUG": "true"})

    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("configuration error:")
    assert "DEBUG" in line
    assert "PAYMENT_PROVIDER" in line
    assert gunicorn_runs == []


def test_serve_refuses_bad_options_with_exit_2(gunicorn_runs: list[dict[str, Any]]) -> None:
    assert serve("--workers", "0").exit_code == 2
    assert serve("--port", "70000").exit_code == 2
    assert gunicorn_runs == []


def test_serve_falls_back_to_waitress_where_gunicorn_cannot_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[tuple[str, int]] = []

    def waitress(settings: Settings, *, host: str, port: int) -> None:
        served.append((host, port))

    monkeypatch.setattr(cli_serve, "gunicorn_usable", lambda: False)
    monkeypatch.setattr(run, "serve", waitress)

    result = serve("--port", "8124", env={"DATABASE_URL": "memory://"})

    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8124)]


def test_bind_address_brackets_ipv6() -> None:
    assert cli_serve.bind_address("::", 80) == "[::]:80"
    assert cli_serve.bind_address("localhost", 80) == "localhost:80"


def test_gunicorn_gets_the_options_and_opens_no_per_user_control_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gunicorn.app.base import BaseApplication

    configs: list[Any] = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: configs.append(self.cfg))

    cli_serve.run_gunicorn(Settings(), {"bind": "127.0.0.1:8123", "workers": 3})

    [cfg] = configs
    assert (cfg.bind, cfg.workers) == (["127.0.0.1:8123"], 3)
    if "control_socket_disable" in cfg.settings:  # gunicorn 25.1 and later
        assert cfg.control_socket_disable is True
