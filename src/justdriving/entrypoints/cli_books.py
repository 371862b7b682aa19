"""Pushing to the books and exporting for them: `justdriving sync-accounting` sends new and
changed records to the accounting system (ACCOUNTING_PROVIDER), `justdriving export-accounting`
writes them as CSV import files; both each school to its own books, with a bar per school on
a terminal and a table of the runs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import click

from justdriving.entrypoints.cli_common import clean_errors

if TYPE_CHECKING:
    from justdriving.domain.accounting import SyncRun

_SCHOOL = click.option(
    "--school", "school_id", default=None, help="One school's id (default: every school)."
)
_SINCE = click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Documents dated on or after this day, at the school's midnight (default: since the "
    "last run).",
)


@click.command("sync-accounting")
@_SCHOOL
@_SINCE
@click.option("--dry-run", is_flag=True, help="Show what would be pushed; call nothing.")
@clean_errors
def sync_accounting(school_id: str | None, since: datetime | None, dry_run: bool) -> None:
    """Push new and changed contacts, invoices, payments and credit notes to the accounting
    system (ACCOUNTING_PROVIDER), each school to its own books. Exits 1 when a record failed
    or a run stopped early; a school whose books are not connected is reported, not failed."""
    from justdriving.container import bootstrap

    app = bootstrap()
    day = since.date() if since else None
    with _progress_bar() as progress:
        if school_id is None:
            runs = app.sync_all_accounting(since=day, dry_run=dry_run, progress=progress)
        else:
            runs = [app.sync_accounting(school_id, since=day, dry_run=dry_run, progress=progress)]
    _print_runs(runs, "would push" if dry_run else "pushed")
    if any(run.failures or (run.stopped_early and not run.not_connected) for run in runs):
        sys.exit(1)


@click.command("export-accounting")
@click.option(
    "--format",
    "format_",
    required=True,
    type=click.Choice(["xero", "quickbooks", "ledger"]),
    help="Xero or QuickBooks sales-invoice import files, or a ledger of every document.",
)
@_SCHOOL
@_SINCE
@clean_errors
def export_accounting(format_: str, school_id: str | None, since: datetime | None) -> None:
    """Write the documents issued since the last export as CSV files (ACCOUNTING_EXPORT_DIR).
    Exits 1 when a document could not be exported."""
    from justdriving.container import bootstrap
    from justdriving.domain.services.accounting.export import ExportFormat

    app = bootstrap()
    day, chosen = (since.date() if since else None), ExportFormat(format_)
    with _progress_bar() as progress:
        if school_id is None:
            results = app.export_all_accounting(chosen, since=day, progress=progress)
        else:
            results = [app.export_accounting(school_id, chosen, since=day, progress=progress)]
    _print_runs([result.run for result in results], "exported")
    for path in (path for result in results for path in result.files):
        click.echo(f"wrote {path}")
    if any(result.run.failures for result in results):
        sys.exit(1)


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A bar per school on the terminal (stderr), gone when done; nothing when not a terminal."""
    from rich.console import Console
    from rich.progress import Progress, TaskID

    tasks: dict[str, TaskID] = {}
    with Progress(console=Console(stderr=True), transient=True) as bar:

        def report(school: str, done: int, total: int) -> None:
            if school not in tasks:
                tasks[school] = bar.add_task(school, total=total)
            bar.update(tasks[school], completed=done, total=total)

        yield report


def _print_runs(runs: Sequence[SyncRun], pushed: str) -> None:
    """The per-run report: a row per school, then why a run stopped and every failure."""
    from rich.console import Console
    from rich.table import Table

    table = Table("school", "provider", pushed, "skipped", "failed", "stopped early")
    for run in runs:
        row = (run.school_id, run.provider, run.pushed, run.skipped, run.failed)
        stopped = "not connected" if run.not_connected else "yes" if run.stopped_early else ""
        table.add_row(*map(str, row), stopped)
    console = Console()
    (console if console.is_terminal else Console(width=160)).print(table)
    for run in runs:
        if run.not_connected:
            click.echo(f"{run.school_id}: not connected (its records wait): {run.stopped_early}")
        elif run.stopped_early:
            click.echo(f"{run.school_id}: stopped early: {run.stopped_early}")
        for record_id, reason in run.failures:
            click.echo(f"{run.school_id} {record_id}: {reason}")
