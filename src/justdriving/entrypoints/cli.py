"""The `justdriving` command line. Exit codes: 0 success, 1 failure, 2 usage or configuration."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError, JustDrivingError

F = TypeVar("F", bound=Callable[..., Any])


def _clean_errors(command: F) -> F:
    """One clear line instead of a traceback, with the documented exit code."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as error:
            click.echo(f"configuration error: {error}", err=True)
            sys.exit(2)
        except JustDrivingError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return run  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="justdriving")
def main() -> None:
    """justdriving: bookings, invoices, payments, refunds and messages for driving schools."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


@main.command()
@_clean_errors
def migrate() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from justdriving.adapters.sql.engine import make_engine
    from justdriving.adapters.sql.schema import upgrade

    settings = Settings.from_env()
    upgrade(make_engine(settings.effective_database_url))
    click.echo("database is up to date")


@main.command()
@click.option("--once", is_flag=True, help="One round of relay and schedules, then exit.")
@_clean_errors
def worker(once: bool) -> None:
    """Relay the outbox and run the reminder schedules until stopped (Ctrl-C, SIGTERM)."""
    from justdriving.container import bootstrap
    from justdriving.entrypoints.worker import Worker

    work = Worker(bootstrap())
    if once:
        work.tick()
        return
    work.stop_on_signals()
    click.echo("worker running; Ctrl-C stops it")
    work.run()


@main.command("send-reminders")
@_clean_errors
def send_reminders() -> None:
    """Queue the lesson and overdue-invoice reminders that are due now."""
    from justdriving.container import bootstrap

    report = bootstrap().send_reminders()
    click.echo(f"{report.lessons} lesson reminders, {report.overdue_invoices} overdue reminders")


@main.command()
@_clean_errors
def demo() -> None:
    """Run a whole lesson lifecycle on fake providers and print what happened."""
    from justdriving.entrypoints.demo import run_demo

    run_demo(Settings.from_env())
