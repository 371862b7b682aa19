"""`justdriving accounting authorize-url|connect`: connecting a Xero organisation or QuickBooks
company (ACCOUNTING_PROVIDER) with the provider's OAuth2 authorisation-code flow: a school's
own books with `--school ID`, else the platform-wide one (ACCOUNTING_TENANT_ID), which every
school without its own uses. The first grant is stored where the sync reads it (encrypted
under ACCOUNTING_TOKEN_KEY); no token is ever printed."""

from __future__ import annotations

import logging
import secrets

import click

from justdriving.config import AccountingProvider, Settings
from justdriving.entrypoints.cli_common import app_from_environment, clean_errors

_REDIRECT = click.option(
    "--redirect-uri",
    required=True,
    help="The redirect URI registered with the provider's app (the same in both steps).",
)


_SCHOOL = click.option(
    "--school",
    "school_id",
    default=None,
    help="The school whose own books these are (default: the platform-wide organisation).",
)


@click.group()
def accounting() -> None:
    """Connect the accounting organisation (Xero, QuickBooks) the sync pushes to."""


@accounting.command("authorize-url")
@_REDIRECT
@_SCHOOL
@clean_errors
def authorize_url(redirect_uri: str, school_id: str | None) -> None:
    """Print the provider's consent URL, with a fresh random state to check on the redirect."""
    from justdriving.container import accounting_consent

    settings = Settings.from_env()
    state = secrets.token_urlsafe(24)
    if school_id is None:
        click.echo(accounting_consent(settings).authorize_url(redirect_uri, state))
    else:
        app = app_from_environment()
        click.echo(app.school_books_authorize_url(school_id, redirect_uri, state))
    click.echo(f"state: {state}")
    realm = " --realm-id REALM_ID" if _is_quickbooks(settings) else ""
    school = f" --school {school_id}" if school_id else ""
    click.echo(
        "Open the URL, sign in and allow access. Check that the redirect carries this state, "
        f"then, within minutes: justdriving accounting connect --code CODE{realm}{school} "
        f"--redirect-uri {redirect_uri}"
    )


@accounting.command()
@click.option("--code", required=True, help="The `code` parameter of the provider's redirect.")
@_REDIRECT
@click.option(
    "--realm-id",
    default=None,
    help="QuickBooks: the `realmId` parameter of the redirect (default: ACCOUNTING_TENANT_ID).",
)
@_SCHOOL
@click.option(
    "--tenant-id",
    default=None,
    help="Xero, with --school: the school's organisation, when the consent connected several.",
)
@clean_errors
def connect(
    code: str,
    redirect_uri: str,
    realm_id: str | None,
    school_id: str | None,
    tenant_id: str | None,
) -> None:
    """Exchange the redirect's code for the first OAuth grant and store it for the sync."""
    if school_id is not None:
        _connect_school(school_id, code, redirect_uri, realm_id or tenant_id)
        return
    if tenant_id is not None:
        raise click.UsageError("--tenant-id is for --school; otherwise ACCOUNTING_TENANT_ID")
    from justdriving.container import accounting_consent, grant_store
    from justdriving.domain.services.accounting.grants import connect_accounting

    logging.getLogger("httpx").setLevel(logging.WARNING)  # two requests: no news, one line
    logging.getLogger("alembic").setLevel(logging.WARNING)  # checking migrations is no news
    settings = Settings.from_env()
    tenant_id = _tenant(settings, realm_id)
    grants = grant_store(settings)  # refuses an unusable database before the code is spent
    connection = connect_accounting(
        accounting_consent(settings), grants, code, redirect_uri, tenant_id
    )
    grant = connection.grant
    what = "QuickBooks company" if _is_quickbooks(settings) else "Xero organisation"
    named = f"{connection.tenant_name} " if connection.tenant_name else ""
    click.echo(f"connected {what} {named}({grant.tenant_id}); the grant is stored")
    if settings.accounting_tenant_id is None:
        click.echo(f"set ACCOUNTING_TENANT_ID={grant.tenant_id} for sync-accounting")


def _connect_school(school_id: str, code: str, redirect_uri: str, tenant_id: str | None) -> None:
    """The school's own organisation (`tenant_id`: the Xero tenant or QuickBooks realm, else
    the only one the consent connected): its grant is stored for it, whatever the platform's."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings.from_env()
    app = app_from_environment()
    connection = app.connect_school_books(school_id, code, redirect_uri, tenant_id)
    what = "QuickBooks company" if _is_quickbooks(settings) else "Xero organisation"
    named = f"{connection.tenant_name} " if connection.tenant_name else ""
    click.echo(
        f"connected {what} {named}({connection.grant.tenant_id}) as the books of school "
        f"{school_id}; the grant is stored"
    )


def _is_quickbooks(settings: Settings) -> bool:
    return settings.accounting_provider is AccountingProvider.QUICKBOOKS


def _tenant(settings: Settings, realm_id: str | None) -> str | None:
    configured = settings.accounting_tenant_id
    if realm_id is None:
        return configured
    if not _is_quickbooks(settings):
        raise click.UsageError("--realm-id is for ACCOUNTING_PROVIDER=quickbooks")
    if configured is not None and configured != realm_id:
        raise click.UsageError(
            f"--realm-id {realm_id} is not ACCOUNTING_TENANT_ID {configured}: the sync would "
            "not find the grant"
        )
    return realm_id
