"""`justdriving payments paypal-account`: a school's own PayPal account (its REST app's client
id and secret, and the webhook id PayPal gave the school's URL). The secret is asked for on
the terminal (or read from standard input), never taken as an argument or printed."""

from __future__ import annotations

import click

from justdriving.entrypoints.cli_common import app_from_environment, clean_errors


@click.command("paypal-account")
@click.option("--school", "school_id", required=True, help="The school whose account it is.")
@click.option("--client-id", required=True, help="The PayPal REST app's client id.")
@click.option(
    "--webhook-id", required=True, help="The id PayPal gave the webhook for the school's URL."
)
@clean_errors
def paypal_account(school_id: str, client_id: str, webhook_id: str) -> None:
    """Take the school's PayPal payments on its own account from now on."""
    secret = click.prompt("client secret", hide_input=True, err=True)
    account = app_from_environment().set_school_paypal(school_id, client_id, secret, webhook_id)
    click.echo(
        f"school {account.school_id} takes PayPal payments on client {account.client_id}; "
        f"its webhook URL is PUBLIC_BASE_URL + {account.webhook_path} (webhook id "
        f"{account.webhook_id})"
    )
