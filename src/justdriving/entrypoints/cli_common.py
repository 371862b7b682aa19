"""What every `justdriving` command shares: one-line errors with the documented exit codes
(0 success, 1 failure, 2 usage or configuration), and rich tables."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from justdriving.domain.errors import ConfigurationError, JustDrivingError

if TYPE_CHECKING:
    from justdriving.application import Application

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1
EXIT_USAGE = 2
MAX_ERROR_LENGTH = 500

log = logging.getLogger("justdriving.cli")


def clean_errors(command: F) -> F:
    """One clear line instead of a traceback, with the documented exit code: 2 for a
    configuration error, 1 for any other failure. Click's own usage errors (exit 2) pass."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as error:
            fail(f"configuration error: {error}", EXIT_USAGE)
        except JustDrivingError as error:
            fail(f"error: {error}", EXIT_FAILURE)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # a bug or a broken dependency: still one line
            log.debug("unexpected error", exc_info=True)
            fail(f"error: unexpected {type(error).__name__}: {error}", EXIT_FAILURE)

    return run  # type: ignore[return-value]


def fail(message: str, code: int) -> NoReturn:
    """Print `message` as one line on stderr and exit with `code`."""
    line = " ".join(message.split())
    if len(line) > MAX_ERROR_LENGTH:
        line = line[: MAX_ERROR_LENGTH - 1] + "…"
    click.echo(line, err=True)
    sys.exit(code)


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]], empty: str) -> None:
    """A rich table on stdout (wide when not a terminal, so pipes get whole lines), or
    `empty` when there are no rows."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns)
    count = 0
    for row in rows:
        table.add_row(*(Text(cell(value)) for value in row))  # Text: no markup in values
        count += 1
    if not count:
        click.echo(empty)
        return
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)


def cell(value: object) -> str:
    """How a value shows in a table: times in UTC to the second, None as blank."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def app_from_environment() -> Application:
    """The application for one command: the one handed to the command line
    (`main(obj=app)`, as an embedding service or a test hands its own), else the one the
    environment configures."""
    context = click.get_current_context(silent=True)
    if context is not None and context.obj is not None:
        return cast("Application", context.obj)
    from justdriving import container  # imported when a command needs the application

    logging.getLogger("alembic").setLevel(logging.WARNING)  # checking migrations is no news
    return container.bootstrap()
