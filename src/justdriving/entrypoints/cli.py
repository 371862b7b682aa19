"""The `justdriving` command line. Exit codes: 0 success, 1 failure, 2 usage or configuration."""

from __future__ import annotations

import logging
import sys

import click

from justdriving.config import QueueBackend, Settings
from justdriving.entrypoints.cli_accounting import accounting
from justdriving.entrypoints.cli_books import export_accounting, sync_accounting
from justdriving.entrypoints.cli_common import clean_errors as _clean_errors
from justdriving.entrypoints.cli_money import (
    balances,
    invoices,
    payments_list,
    payments_show,
    refund,
)
from justdriving.entrypoints.cli_ops import check_config, inbox, messages, outbox
from justdriving.entrypoints.cli_payments import payments
from justdriving.entrypoints.cli_paypal import paypal_account
from justdriving.entrypoints.cli_schools import schools, students


@click.group()
@click.version_option(package_name="justdriving")
def main() -> None:
    """justdriving: bookings, invoices, payments, refunds and messages for driving schools."""
    from justdriving.logs import configure_logging_from_env

    configure_logging_from_env()


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
@click.option(
    "--relay-only",
    is_flag=True,
    help="Relay the outbox and nothing else: run any number beside one full worker.",
)
@_clean_errors
def worker(once: bool, relay_only: bool) -> None:
    """Relay the outbox and run the periodic jobs (reminders, the accounting reconciliation
    when ACCOUNTING_SYNC_ENABLED) until stopped (Ctrl-C, SIGTERM). Run the schedules in one
    worker; more relays with --relay-only."""
    from justdriving.container import bootstrap
    from justdriving.entrypoints.schedule import DISPATCH, scheduled
    from justdriving.entrypoints.worker import Worker

    settings = Settings.from_env()
    if settings.queue_backend is QueueBackend.CELERY:
        click.echo(CELERY_WORKERS, err=True)
        sys.exit(2)
    jobs = scheduled(settings)
    if relay_only:
        jobs = [job for job in jobs if job.name == DISPATCH]
    work = Worker(bootstrap(settings), jobs=jobs)
    if once:
        click.echo(f"worker: one round done: {work.round().summary()}")
        return
    work.stop_on_signals()
    click.echo("worker running; Ctrl-C stops it")
    work.run()


CELERY_WORKERS = """\
QUEUE_BACKEND=celery: the relay and the schedules run on Celery workers, not here.
Start exactly one worker with beat (the schedules) and any number without:
  justdriving celery worker --beat --concurrency 2
  justdriving celery worker --concurrency 2
(CELERY_BROKER_URL names the broker; see docs/scale-out.md)"""


@main.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@_clean_errors
def celery(arguments: tuple[str, ...]) -> None:
    """Celery with justdriving's app (QUEUE_BACKEND=celery): `justdriving celery worker --beat`.

    Takes any celery command: worker, beat, inspect active, purge, --help."""
    from justdriving.container import bootstrap
    from justdriving.entrypoints.celery_app import celery_app

    settings = Settings.from_env()
    if arguments[:1] in (("worker",), ("beat",)):
        bootstrap(settings)  # refuse bad settings or an unmigrated database before starting
    try:
        code = celery_app(settings).start(list(arguments))
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    sys.exit(code or 0)


@main.command("send-reminders")
@_clean_errors
def send_reminders() -> None:
    """Queue the lesson and overdue-invoice reminders that are due now."""
    from justdriving.container import bootstrap

    report = bootstrap().send_reminders()
    click.echo(f"{report.lessons} lesson reminders, {report.overdue_invoices} overdue reminders")


@main.command()
@click.option(
    "--database",
    is_flag=True,
    help="Keep the demo's records in DATABASE_URL (migrated first) instead of in memory.",
)
@_clean_errors
def demo(database: bool) -> None:
    """Run a whole lesson lifecycle on fake providers and print what happened. In memory
    unless --database: nothing is written to the `make run` database."""
    import attrs

    from justdriving.entrypoints.demo import MEMORY_URL, run_demo

    settings = Settings.from_env()
    if not database:
        settings = attrs.evolve(settings, database_url=MEMORY_URL)
    run_demo(settings)
    where = settings.masked()["DATABASE_URL"] if database else "memory (--database keeps it)"
    click.echo(f"demo done: one school, one lesson from booking to refund, kept in {where}")


_HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
_PORT = click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))


@main.command()
@_HOST
@_PORT
@_clean_errors
def run(host: str, port: int) -> None:
    """Everything in one process for development: migrate, seed a demo invoice, worker, web."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # before alembic is imported
    from justdriving.entrypoints.run import run as run_all

    run_all(Settings.from_env(), host=host, port=port)


@main.command()
@_HOST
@_PORT
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (waitress, where gunicorn cannot run, uses threads).",
)
@_clean_errors
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app (webhooks, checkout API, health) for production until stopped:
    with gunicorn, or with waitress where gunicorn cannot run (Windows, not installed)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from justdriving.entrypoints import cli_serve

    settings = Settings.from_env()
    if cli_serve.gunicorn_usable():
        cli_serve.serve_with_gunicorn(
            settings, host=host, port=port, workers=workers, echo=click.echo
        )
        return
    from justdriving.entrypoints.run import serve as serve_web

    serve_web(settings, host=host, port=port)


main.add_command(check_config)
main.add_command(accounting)
main.add_command(sync_accounting)
main.add_command(export_accounting)
main.add_command(outbox)
main.add_command(inbox)
main.add_command(messages)
payments.add_command(paypal_account)  # a school's own PayPal account
main.add_command(payments)
main.add_command(invoices)
main.add_command(balances)
main.add_command(refund)
main.add_command(schools)
main.add_command(students)
payments.add_command(payments_list)
payments.add_command(payments_show)
