"""Xero's OAuth2 side in the simulator: access and refresh tokens (refresh tokens rotate and
are spent once), authorisation codes, which organisations a token reaches, and disconnecting;
mixed into XeroSimulator."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import frozen

from justdriving.domain.accounting import OAuthGrant


@frozen
class XeroConnection:
    """Tokens as Xero's token endpoint hands them out."""

    access_token: str
    refresh_token: str
    expires_at: datetime


class TokenSide:
    """The tokens XeroSimulator hands out and honours."""

    tenant_id: str
    connections: dict[str, str]
    clock: Callable[[], datetime]
    access_ttl: int
    refresh_ttl: timedelta
    tokens_issued: int
    _access: dict[str, datetime]
    _refresh: dict[str, datetime]
    _reach: dict[str, frozenset[str]]  # a token -> the tenants it reaches
    _codes: dict[str, tuple[str, frozenset[str]]]  # code -> redirect_uri, reach
    _lock: threading.RLock

    def connect(self, tenant_id: str | None = None) -> XeroConnection:
        """Tokens as after a person consented (the authorisation-code flow, not simulated), to
        `tenant_id` (default: the first organisation)."""
        with self._lock:
            return self._issue(frozenset({(tenant_id or self.tenant_id).lower()}))

    def grant(
        self, provider: str = "xero", tenant_id: str | None = None, school_id: str | None = None
    ) -> OAuthGrant:
        """A fresh connection as the OAuthGrant an operator command would store (for
        `school_id`'s own books when given)."""
        tenant = (tenant_id or self.tenant_id).lower()
        tokens = self.connect(tenant)
        return OAuthGrant(
            id=OAuthGrant.school_key(provider, school_id)
            if school_id
            else OAuthGrant.key(provider, tenant),
            provider=provider,
            tenant_id=tenant,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            school_id=school_id,
        )

    def rotate(self, refresh_token: str) -> XeroConnection | None:
        """Spend a refresh token for new tokens; None when it is unknown, used or expired."""
        with self._lock:
            issued = self._refresh.pop(refresh_token, None)
            reach = self._reach.pop(refresh_token, frozenset())
            if issued is None or self.clock() >= issued + self.refresh_ttl:
                return None
            return self._issue(reach)

    def authorization_code(self, redirect_uri: str, tenants: tuple[str, ...] = ()) -> str:
        """The code Xero's consent would redirect to `redirect_uri` with (the browser step),
        for the organisations the person picked (default: every one)."""
        with self._lock:
            code = secrets.token_urlsafe(24)
            reach = frozenset(t.lower() for t in tenants) or frozenset(self.connections)
            self._codes[code] = (redirect_uri, reach)
            return code

    def redeem(self, code: str, redirect_uri: str) -> XeroConnection | None:
        """Exchange a code for tokens; None when it is unknown, used, or for another
        redirect_uri. A code is spent by its first exchange, even a refused one."""
        with self._lock:
            issued_for = self._codes.pop(code, None)
            if issued_for is None or issued_for[0] != redirect_uri:
                return None
            return self._issue(issued_for[1])

    def reach(self, access_token: str) -> frozenset[str]:
        """The organisations a token reaches."""
        with self._lock:
            return self._reach.get(access_token, frozenset())

    def token_works(self, access_token: str) -> bool:
        with self._lock:
            expires = self._access.get(access_token)
            return expires is not None and self.clock() < expires

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as after 30 minutes)."""
        with self._lock:
            self._access.clear()

    def disconnect(self, tenant_id: str | None = None) -> None:
        """The organisation (default: every one) disconnected the app: no token that reaches
        it works any more."""
        with self._lock:
            for tokens in (self._access, self._refresh):
                for token in list(tokens):
                    if tenant_id is None or tenant_id.lower() in self._reach.get(token, ()):
                        del tokens[token]

    def refresh_tokens(self) -> set[str]:
        """The refresh tokens that would work now."""
        with self._lock:
            return set(self._refresh)

    def _issue(self, reach: frozenset[str]) -> XeroConnection:
        now = self.clock()
        access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        self._access[access] = now + timedelta(seconds=self.access_ttl)
        self._refresh[refresh] = now
        self._reach[access] = self._reach[refresh] = reach
        self.tokens_issued += 1
        return XeroConnection(access, refresh, self._access[access])
