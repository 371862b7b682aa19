"""An OAuth client-credentials access token, kept and renewed the one way both REST payment
adapters without an SDK need it (PayPal, Vipps MobilePay): fetched on first use, kept until
`margin` seconds before it expires (or half its lifetime, if that is shorter), shared by every
thread of the process, and renewed once when a call answers 401 — only the token that was
refused is forgotten, so threads that saw the same 401 fetch one new token between them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from attrs import field, frozen


class _Answer(Protocol):
    @property
    def status_code(self) -> int: ...


A = TypeVar("A", bound=_Answer)


@frozen
class _Token:
    value: str = field(repr=False)
    renew_at: float


class BearerTokens:
    """`fetch()` asks the provider for a token: (the token, its lifetime in seconds)."""

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        margin: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self._margin, self._monotonic = fetch, margin, monotonic
        self._token: _Token | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BearerTokens(margin={self._margin})"

    def current(self) -> str:
        """The token to call with, fetched when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or self._monotonic() >= self._token.renew_at:
                asked_at = self._monotonic()
                value, lifetime = self._fetch()
                renew_in = max(lifetime - self._margin, lifetime / 2)
                self._token = _Token(value, asked_at + renew_in)
            return self._token.value

    def forget(self, token: str) -> None:
        """The provider refused `token`: the next call fetches a new one (unless another thread
        already has)."""
        with self._lock:
            if self._token is not None and self._token.value == token:
                self._token = None

    def call(self, send: Callable[[str], A]) -> A:
        """`send(token)`; on a 401, once more with a renewed token."""
        token = self.current()
        answer = send(token)
        if answer.status_code == 401:
            self.forget(token)
            answer = send(self.current())
        return answer
