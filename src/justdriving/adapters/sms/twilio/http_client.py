"""The HTTP client handed to twilio-python's Client: the SDK's documented extension point.

twilio-python takes an `http_client` (see its advanced-examples/custom-http-client.md). Ours is
its own TwilioHttpClient with three additions: requests for `https://*.twilio.com` can go to
another origin (a local simulator, a recording proxy), the Retry-After of a 429 is kept for the
adapter (TwilioRestException does not carry headers), and nothing is retried here: whether a
retry is safe is the relay's decision.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient

from justdriving.adapters.retry_after import retry_after_seconds


class TwilioHttp(TwilioHttpClient):  # type: ignore[misc] # twilio-python ships no types
    """TwilioHttpClient that may send to `api_base` instead of https://api.twilio.com."""

    def __init__(self, api_base: str | None = None, timeout: float = 30.0) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        self._origin = urlsplit(api_base.rstrip("/")) if api_base else None
        self._last = threading.local()

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        self._last.retry_after = None
        response = super().request(
            method,
            self._rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        if response.status_code == 429:
            self._last.retry_after = retry_after_seconds(
                (response.headers or {}).get("Retry-After")
            )
        return response

    def last_retry_after(self) -> float | None:
        """The Retry-After of the last 429 this thread received, in seconds."""
        value: float | None = getattr(self._last, "retry_after", None)
        return value

    def _rebase(self, url: str) -> str:
        if self._origin is None:
            return url
        parts = urlsplit(url)
        if not parts.hostname or not parts.hostname.endswith(".twilio.com"):
            return url
        path = self._origin.path + parts.path
        return urlunsplit((self._origin.scheme, self._origin.netloc, path, parts.query, ""))
