"""Operators' commands: `outbox list|retry|purge-sent`, `inbox list|replay`, `messages list`
and `check-config`. Each parses, calls one use case of `app.operations`, renders a table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from justdriving.application import Application
from justdriving.config import AppEnv, Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.messages import MessageStatus
from justdriving.domain.outbox import InboxStatus, OutboxStatus
from justdriving.domain.services.arguments import MOST_PER_BATCH
from justdriving.domain.services.operations import DEFAULT_LIMIT
from justdriving.entrypoints.cli_common import (
    EXIT_USAGE,
    app_from_environment,
    clean_errors,
    print_table,
)

F = TypeVar("F", bound=Callable[..., Any])

_LIMIT = click.option(
    "--limit",
    default=DEFAULT_LIMIT,
    show_default=True,
    type=click.IntRange(min=1, max=MOST_PER_BATCH),
    help="Show at most this many, newest first.",
)


def _status(choices: type[OutboxStatus | InboxStatus | MessageStatus]) -> Callable[[F], F]:
    names = [member.value for member in choices]
    return click.option(
        "--status", type=click.Choice(names, case_sensitive=False), help="Only this status."
    )


def _redacted(app: Application, text: str | None) -> str | None:
    """A stored error text as the logs would show it (secrets gone, people masked)."""
    return app.redact(text) if text else text


# --------------------------------------------------------------------------------------------
# outbox


@click.group()
def outbox() -> None:
    """Side effects waiting to be sent, sent, or given up (dead)."""


@outbox.command("list")
@_status(OutboxStatus)
@_LIMIT
@clean_errors
def outbox_list(status: str | None, limit: int) -> None:
    """Outbox rows, newest first."""
    chosen = OutboxStatus(status.lower()) if status else None
    app = app_from_environment()
    rows = app.operations.list_outbox(chosen, limit)
    print_table(
        ("id", "kind", "school", "status", "attempts", "created", "next attempt", "sent", "error"),
        (
            (
                *(r.id, r.kind, r.school_id, r.status, r.attempts, r.created_at),
                *(r.next_attempt_at, r.sent_at, _redacted(app, r.last_error)),
            )
            for r in rows
        ),
        empty="no outbox rows",
    )


@outbox.command("retry")
@click.argument("outbox_id")
@clean_errors
def outbox_retry(outbox_id: str) -> None:
    """Give a dead row another try; the worker sends it on its next round."""
    row = app_from_environment().operations.retry_outbox(outbox_id)
    click.echo(f"{row.id} is {row.status} again; the worker sends it on its next round")


@outbox.command("purge-sent")
@click.option(
    "--older-than-days",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Delete rows sent more than this many days ago.",
)
@clean_errors
def outbox_purge_sent(older_than_days: int) -> None:
    """Delete sent rows older than the given age (pending, failed and dead rows stay)."""
    from datetime import timedelta

    purged = app_from_environment().operations.purge_sent(timedelta(days=older_than_days))
    click.echo(f"purged {purged} sent outbox rows older than {older_than_days} days")


# --------------------------------------------------------------------------------------------
# inbox


@click.group()
def inbox() -> None:
    """Provider webhooks as they were received, and what became of them."""


@inbox.command("list")
@_status(InboxStatus)
@_LIMIT
@clean_errors
def inbox_list(status: str | None, limit: int) -> None:
    """Stored webhooks, newest first."""
    chosen = InboxStatus(status.lower()) if status else None
    app = app_from_environment()
    events = app.operations.list_inbox(chosen, limit)
    print_table(
        ("id", "provider", "event", "type", "status", "attempts", "received", "error"),
        (
            (
                *(e.id, e.provider, e.event_id, e.event_type, e.status, e.attempts),
                *(e.received_at, _redacted(app, e.error)),
            )
            for e in events
        ),
        empty="no inbox events",
    )


@inbox.command("replay")
@click.argument("inbox_id")
@clean_errors
def inbox_replay(inbox_id: str) -> None:
    """Apply a failed or ignored payment webhook again."""
    outcome = app_from_environment().operations.replay_inbox(inbox_id)
    click.echo(f"{inbox_id} replayed: {outcome}")


# --------------------------------------------------------------------------------------------
# messages


MESSAGE_COLUMNS = (
    *("id", "school", "type", "channel", "to", "status", "created"),
    *("provider", "error", "decisions"),
)


@click.group()
def messages() -> None:
    """The log of SMS and email messages (recipients masked)."""


@messages.command("list")
@click.option("--school", "school_id", default=None, help="One school's id (default: all).")
@_status(MessageStatus)
@_LIMIT
@clean_errors
def messages_list(school_id: str | None, status: str | None, limit: int) -> None:
    """Messages, newest first, with what the delivery policy decided."""
    chosen = MessageStatus(status.lower()) if status else None
    app = app_from_environment()
    views = app.operations.list_messages(school_id, chosen, limit)
    print_table(
        MESSAGE_COLUMNS,
        (
            (
                *(m.id, m.school_id, m.type, m.channel, m.recipient, m.state, m.created_at),
                *(m.provider, _redacted(app, m.provider_error)),
                "; ".join(app.redact(d) for d in m.decisions),
            )
            for m in views
        ),
        empty="no messages",
    )


# --------------------------------------------------------------------------------------------
# check-config


@click.command("check-config")
@clean_errors
def check_config() -> None:
    """Show the effective configuration (secrets masked) and every problem that stops the
    app from starting. Exits 2 when there is one."""
    import attrs

    settings = Settings.from_env()
    print_table(("variable", "value"), settings.masked().items(), empty="")
    problems = _problems(settings)
    if problems:
        click.echo(f"APP_ENV={settings.app_env}: refused to start, {len(problems)} problem(s):")
        for problem in problems:
            click.echo(f"  - {problem}")
        raise SystemExit(EXIT_USAGE)
    click.echo(f"APP_ENV={settings.app_env}: no problems")
    if not settings.is_production:
        would = attrs.evolve(settings, app_env=AppEnv.PRODUCTION).production_problems()
        if would:
            click.echo("with APP_ENV=production these would stop it from starting:")
            for problem in would:
                click.echo(f"  - {problem}")


def _problems(settings: Settings) -> list[str]:
    """What production_problems() finds, else what building the container refuses."""
    problems = settings.production_problems()
    if problems:
        return problems
    from justdriving.container import build_container

    try:
        build_container(settings)
    except ConfigurationError as error:
        return list(error.problems) or [str(error)]
    return []
