"""Intuit's OAuth2 endpoints for QuickBooks Online, for the shared OAuth package.

Access tokens live an hour; each refresh ROTATES the refresh token (accounting.oauth.tokens
saves the new one before use). The one scope, com.intuit.quickbooks.accounting, covers the
batch endpoint the client calls.
"""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.accounting.oauth.app import Endpoints

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
SCOPES = ("com.intuit.quickbooks.accounting",)
TOKEN_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires


def endpoints(token_url: str = TOKEN_URL) -> Endpoints:
    """Intuit's endpoints, the token endpoint at `token_url` (ACCOUNTING_TOKEN_URL)."""
    return Endpoints("QuickBooks", AUTHORIZE_URL, token_url, SCOPES, TOKEN_MARGIN)
