"""Who may call `/api`, and where a checkout may send the payer back.

`justdriving serve` guards `/api` with `require_api_token(settings.api_token)`: the host
application (the school's site, its back end) sends `Authorization: Bearer <API_TOKEN>`; the
token is compared in constant time, and without API_TOKEN every `/api` request is refused; a
client that keeps guessing wrong is answered 429 for a while (`guesses.WrongGuesses`).
An embedding application passes its own `api_guard` to `init_app` instead.

`check_return_url` lets a checkout send the payer back only to a host the platform configured
(PUBLIC_BASE_URL's host and RETURN_URL_HOSTS): no user info (`https://school.example@evil/`),
no backslash, no control character or space, http(s) only (https only in production).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from flask import request
from flask.typing import ResponseReturnValue

from justdriving.config import Settings
from justdriving.domain.errors import InvalidInput
from justdriving.entrypoints.web.errors import error_body
from justdriving.entrypoints.web.guesses import WrongGuesses, too_many_guesses

MAX_RETURN_URL_LENGTH: Final = 2048

ApiGuard = Callable[[], ResponseReturnValue | None]


def require_api_token(token: str | None, guesses: WrongGuesses) -> ApiGuard:
    """An api_guard admitting `Authorization: Bearer <token>` only; with no token, nobody.
    A client that keeps presenting a wrong token is slowed down (`guesses`: 429)."""
    expected = token.encode() if token else None

    def guard() -> ResponseReturnValue | None:
        if expected is None:
            return error_body(
                "api_disabled", "the API is off: the server has no API_TOKEN configured", 403
            )
        address = request.remote_addr or "-"
        wait = guesses.wait(address)
        if wait:
            return too_many_guesses(wait)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            guesses.failed(address)
            answer = error_body("unauthorized", "a valid API bearer token is required", 401)
            answer.headers["WWW-Authenticate"] = 'Bearer realm="justdriving"'
            return answer
        guesses.succeeded(address)
        return None

    return guard


def return_url_hosts(settings: Settings) -> frozenset[str]:
    """The hosts (lower case, with a port where one was given) a return_url may name."""
    hosts = {host.strip().lower() for host in settings.return_url_hosts if host.strip()}
    if settings.public_base_url:
        public = urlsplit(settings.public_base_url)
        if public.hostname:
            hosts.add(public.hostname.lower())
    return frozenset(hosts)


def check_return_url(url: str, settings: Settings) -> str:
    """`url` if the payer may be sent back there, else InvalidInput saying why."""
    if len(url) > MAX_RETURN_URL_LENGTH or any(c <= " " or c in "\\\x7f" for c in url):
        raise InvalidInput("return_url must be a plain absolute URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("return_url must be a plain absolute URL") from None
    schemes = ("https",) if settings.is_production else ("http", "https")
    if parts.scheme.lower() not in schemes:
        raise InvalidInput(f"return_url must be an absolute {'/'.join(schemes)} URL")
    host = (parts.hostname or "").lower()
    if "@" in parts.netloc or not host:
        raise InvalidInput("return_url must name a host, with no user name or password")
    allowed = return_url_hosts(settings)
    if not allowed:
        raise InvalidInput("return_url cannot be used: no RETURN_URL_HOSTS configured")
    if host not in allowed and f"{host}:{port}" not in allowed:
        raise InvalidInput("return_url's host is not one the platform allows (RETURN_URL_HOSTS)")
    return url
