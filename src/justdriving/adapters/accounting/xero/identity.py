"""Xero's OAuth2 endpoints (identity.xero.com, login.xero.com) for the shared OAuth package.

Xero's access tokens live 30 minutes; its refresh tokens 60 days, and each refresh ROTATES the
refresh token (accounting.oauth.tokens saves the new one before use). `offline_access` is what
makes Xero hand out a refresh token. The accounting scopes are the granular ones (required for
apps created since March 2026) that cover what xero.client calls: Contacts, Invoices and
CreditNotes (with their Allocations), and Payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from justdriving.adapters.accounting.oauth.app import Endpoints

AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path
SCOPES = ("offline_access", "accounting.contacts", "accounting.invoices", "accounting.payments")
REFRESH_MARGIN = timedelta(seconds=60)  # refresh when the access token has less left than this


def token_url(identity: str) -> str:
    """Xero's token endpoint from ACCOUNTING_TOKEN_URL: the identity server's root
    (`https://identity.xero.com`, a simulator's address) or the endpoint's full URL."""
    identity = identity.rstrip("/")
    return identity if identity.endswith(TOKEN_PATH) else identity + TOKEN_PATH


def endpoints(identity_base: str, scopes: Sequence[str] = SCOPES) -> Endpoints:
    """Xero's endpoints, the token endpoint at `identity_base` (a root or the endpoint)."""
    return Endpoints("Xero", AUTHORIZE_URL, token_url(identity_base), tuple(scopes), REFRESH_MARGIN)
