"""The `justdriving` command line. Exit codes: 0 success, 1 failure, 2 usage or configuration."""

from __future__ import annotations

import sys

import click

from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError, JustDrivingError


@click.group()
@click.version_option(package_name="justdriving")
def main() -> None:
    """justdriving: bookings, invoices, payments, refunds and messages for driving schools."""


@main.command()
def demo() -> None:
    """Run a whole lesson lifecycle on the in-memory fakes and print what happened."""
    from justdriving.entrypoints.demo import run_demo

    try:
        settings = Settings.from_env(env_file=None)
        run_demo(settings)
    except ConfigurationError as error:
        click.echo(f"configuration error: {error}", err=True)
        sys.exit(2)
    except JustDrivingError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
