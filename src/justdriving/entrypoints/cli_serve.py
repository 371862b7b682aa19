"""`justdriving serve`: the web app under gunicorn's arbiter (pre-forked workers) where
gunicorn runs (POSIX, installed with the `flask` extra), each worker serving with waitress
(`web.gunicorn_worker`: buffered requests, so slow clients cannot starve it); else under
waitress alone (Windows, or no gunicorn)."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from typing import Any

from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError

log = logging.getLogger("justdriving.serve")

Echo = Callable[[str], None]


def gunicorn_usable() -> bool:
    """gunicorn forks, so it needs a POSIX system; and it must be installed."""
    return os.name == "posix" and importlib.util.find_spec("gunicorn") is not None


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve_with_gunicorn(
    settings: Settings, *, host: str, port: int, workers: int, echo: Echo
) -> None:
    """Check the settings and the database in this (master) process, so that a bad setting
    is one line here and not a crash in every worker; then let gunicorn fork `workers`
    processes, each building its own container (its own database connections)."""
    from justdriving.adapters.sql.schema import pending
    from justdriving.container import build_container

    container = build_container(settings)
    if container.config.database() == "sql":
        engine = container.engine()
        try:
            if pending(engine):
                raise ConfigurationError(
                    "the database is not migrated",
                    ["DATABASE_URL: run `justdriving migrate` first"],
                )
        finally:
            engine.dispose()  # no connection of the master's may cross the fork
    elif workers > 1:
        echo("DATABASE_URL=memory://: one worker, since every process would have its own data")
        workers = 1

    def when_ready(arbiter: Any) -> None:  # bound: the address is known (--port 0 picks one)
        urls = ", ".join(str(listener) for listener in arbiter.LISTENERS)
        echo(
            f"justdriving serving on {urls} with gunicorn, {workers} worker(s) "
            f"(APP_ENV={settings.app_env}); Ctrl-C stops it"
        )

    def on_exit(_arbiter: Any) -> None:
        echo("stopped")

    options: dict[str, Any] = {
        "bind": bind_address(host, port),
        "workers": workers,
        "proc_name": "justdriving",
        "worker_class": "justdriving.entrypoints.web.gunicorn_worker.WaitressWorker",
        "logger_class": "justdriving.entrypoints.web.gunicorn_worker.GunicornLogs",
        "accesslog": None,  # web.access_log writes it, redacted, in LOG_FORMAT
        "when_ready": when_ready,
        "on_exit": on_exit,
    }
    run_gunicorn(settings, options)


def run_gunicorn(settings: Settings, options: dict[str, Any]) -> None:
    """gunicorn's arbiter, in this process, until SIGINT or SIGTERM."""
    from gunicorn.app.base import BaseApplication

    class JustDrivingGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 25.1 and later
                # No `gunicornc` socket: its default path ($XDG_RUNTIME_DIR or ~/.gunicorn)
                # is one per user, which a second server on the host would take over.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from justdriving.container import build_container
            from justdriving.entrypoints.flask_app import serving_app

            return serving_app(build_container(settings))

    JustDrivingGunicorn().run()
