"""A local QuickBooks Online: the OAuth2 token endpoint and the company batch endpoint, on
127.0.0.1, for tests and demos.

    with QuickBooksSimulator() as quickbooks:
        grants.save(quickbooks.connect())          # what the OAuth consent screen would give
        client = QuickBooksAccountingClient(quickbooks.client_id, quickbooks.client_secret,
                                            quickbooks.realm_id, grants,
                                            api_base=quickbooks.api_base,
                                            token_url=quickbooks.token_url)

Tokens: access tokens live `token_ttl` seconds of its clock; every refresh rotates the refresh
token and the old one stops working at once (stricter than Intuit, so a client that does not
store the new one fails here first). The consent without the browser:
`authorization_code(redirect_uri)` is the code Intuit would redirect with (beside `realm_id`);
the token endpoint exchanges it once, for that redirect_uri only. Batches: at most 30 items;
per-item Faults from the books (company.py); a requestid seen before gets the first
answer again and changes nothing; 10 calls a second, 500 a minute and 40 batches a minute
per company, else 429 with Retry-After. Failures on demand: `fail_next`, `throttle_next`,
`expire_tokens`. Counters: `refreshes`, `batch_calls`, `replays`, `throttled`, and the
books' `created` / `updated`.
Nothing happens at import time; the server runs between `start()` and `stop()`.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from attrs import define

from justdriving.domain.accounting import OAuthGrant
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.quickbooks.company import Company
from justdriving.testing.quickbooks.wire import RecordedRequest, Windows, answer, fault, serve
from justdriving.testing.wire import ApiReply

__all__ = ["QuickBooksSimulator", "RecordedRequest", "SimulatorError"]

TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path
MAX_BATCH = 30
TAX_CODES = {"U25": 2500, "M25": 2500, "Z0": 0}  # sales tax code id -> basis points
ITEMS = {"1000": "Driving lessons", "1010": "Lesson packages", "1020": "Fees"}
_KINDS = {"contacts": "Customer", "invoices": "Invoice", "credit_notes": "CreditMemo"}


class SimulatorError(Exception):
    """A test asked the simulator for something QuickBooks could not do."""


@define
class _Failure:
    status: int
    retry_after: float | None
    processed: bool


class QuickBooksSimulator(Served):
    """QuickBooks Online's token and batch endpoints in a ThreadingHTTPServer; a context manager."""

    def __init__(
        self,
        *,
        client_id: str = "sim-qbo-client",
        client_secret: str = "sim-qbo-secret",  # noqa: S107 - the simulator's own
        realm_id: str = "9130357766900001",
        currency: str = "DKK",
        tax_codes: Mapping[str, int] = TAX_CODES,
        items: Mapping[str, str] = ITEMS,
        token_ttl: int = 3600,
        retry_after: float | None = 1.0,
        limits: tuple[int, int, int] = (10, 500, 40),  # per second, per minute, batches/minute
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id, self.client_secret, self.realm_id = client_id, client_secret, realm_id
        self.token_ttl, self.retry_after = token_ttl, retry_after
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.company = Company(
            currency=currency, tax_codes=tax_codes, items=items, clock=self.clock
        )
        self.requests: list[RecordedRequest] = []
        self.refreshes = self.batch_calls = self.replays = self.throttled = 0
        per_second, per_minute, batches = limits
        self._windows = Windows((per_second, 1.0), (per_minute, 60.0), (batches, 60.0))
        self._monotonic = monotonic
        self._access: dict[str, datetime] = {}
        self._refresh: set[str] = set()
        self._codes: dict[str, str] = {}  # authorisation code -> its redirect_uri
        self._replies: dict[str, ApiReply] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._server = LocalServer.serving(serve(self), provider="quickbooks")

    # Running.

    @property
    def api_base(self) -> str:
        if not self._server.running:
            raise SimulatorError("the simulator is not running; use it as a context manager")
        return self._server.base_url

    @property
    def token_url(self) -> str:
        return self.api_base + TOKEN_PATH

    @property
    def batch_path(self) -> str:
        return f"/v3/company/{self.realm_id}/batch"

    # The merchant's side and failures on demand.

    def connect(self, provider: str = "quickbooks") -> OAuthGrant:
        """The grant a completed OAuth consent gives (an access and a refresh token)."""
        with self._lock:
            access, refresh, expires = self._issue()
            return OAuthGrant(
                id=OAuthGrant.key(provider, self.realm_id),
                provider=provider,
                tenant_id=self.realm_id,
                access_token=access,
                refresh_token=refresh,
                expires_at=expires,
            )

    def authorization_code(self, redirect_uri: str) -> str:
        """The code Intuit's consent would redirect to `redirect_uri` with, for `realm_id`."""
        with self._lock:
            code = f"qbo-code-{secrets.token_hex(12)}"
            self._codes[code] = redirect_uri
            return code

    def fail_next(
        self, status: int = 503, retry_after: float | None = None, *, processed: bool = False
    ) -> None:
        """ApiReply the next batch call with `status`; `processed=True` does the work first and
        loses the answer (an ambiguous outcome)."""
        with self._lock:
            self._failures.append(_Failure(status, retry_after, processed))

    def throttle_next(self, retry_after: float | None = 1.0) -> None:
        self.fail_next(429, retry_after)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working."""
        with self._lock:
            self._access.clear()

    # Looking in.

    def entities(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self.company.books[kind].values()]

    def count(self, kind: str) -> int:
        """How many contacts, invoices, payments or credit_notes (the port's kinds) it holds;
        a zero Payment that applies a credit memo is not a payment."""
        with self._lock:
            books = self.company.books
            if kind == "payments":
                return sum(1 for p in books["Payment"].values() if p["TotalAmt"] > 0)
            return len(books[_KINDS[kind]])

    def batches(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == self.batch_path]

    # The HTTP side.

    def handle(self, request: RecordedRequest) -> ApiReply:
        with self._lock:
            self.requests.append(request)
            if request.path == TOKEN_PATH and request.method == "POST":
                return self._token(request)
            if request.path != self.batch_path or request.method != "POST":
                return fault(404, "610", f"no route {request.path}", "ValidationFault")
            return self._batch(request)

    def _token(self, request: RecordedRequest) -> ApiReply:
        expected = f"{self.client_id}:{self.client_secret}".encode()
        given = request.headers.get("authorization", "")
        try:
            credentials = base64.b64decode(given.removeprefix("Basic "), validate=True)
        except ValueError:
            credentials = b""
        if not given.startswith("Basic ") or not secrets.compare_digest(credentials, expected):
            return answer(401, {"error": "invalid_client"})
        form = {k: v[0] for k, v in _form(request.body).items()}
        if form.get("grant_type") == "authorization_code":
            # Spent by its first exchange, even a refused one; bound to its redirect_uri.
            issued_for = self._codes.pop(form.get("code", ""), None)
            if issued_for is None or issued_for != form.get("redirect_uri"):
                return answer(400, {"error": "invalid_grant"})
        elif form.get("grant_type") != "refresh_token":
            return answer(400, {"error": "unsupported_grant_type"})
        elif form.get("refresh_token") not in self._refresh:
            return answer(400, {"error": "invalid_grant"})
        else:
            self._refresh.discard(form["refresh_token"])  # rotation: the old one is spent
            self.refreshes += 1
        access, refresh, _ = self._issue()
        return answer(
            200,
            {
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.token_ttl,
                "x_refresh_token_expires_in": 8_726_400,
            },
        )

    def _issue(self) -> tuple[str, str, datetime]:
        access, refresh = f"qbo-at-{secrets.token_hex(12)}", f"qbo-rt-{secrets.token_hex(12)}"
        expires = self.clock() + timedelta(seconds=self.token_ttl)
        self._access[access] = expires
        self._refresh.add(refresh)
        return access, refresh, expires

    def _batch(self, request: RecordedRequest) -> ApiReply:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None and failure.status in (401, 403):
            return self._failure(failure)
        if token not in self._access or self.clock() >= self._access[token]:
            return fault(401, "3200", "AuthenticationFailed", "AUTHENTICATION")
        if (failure is not None and failure.status == 429) or self._throttled():
            self.throttled += 1
            return self._failure(failure or _Failure(429, self.retry_after, False))
        self._windows.admit(self._monotonic())
        self.batch_calls += 1
        if failure is not None and not failure.processed:
            return self._failure(failure)
        answer = self._replay_or_process(request)
        return answer if failure is None else self._failure(failure)

    def _throttled(self) -> bool:
        return self._windows.wait(self._monotonic()) > 0

    def _replay_or_process(self, request: RecordedRequest) -> ApiReply:
        key = request.request_id
        if key is not None and key in self._replies:
            self.replays += 1
            return self._replies[key]
        answer = self._process(request)
        if key is not None and answer.status == 200:
            self._replies[key] = answer
        return answer

    def _process(self, request: RecordedRequest) -> ApiReply:
        try:
            payload = request.json()
        except ValueError:
            payload = None
        items = payload.get("BatchItemRequest") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            return fault(400, "2020", "BatchItemRequest is required", "ValidationFault")
        if len(items) > MAX_BATCH:
            return fault(
                400, "2010", f"at most {MAX_BATCH} BatchItemRequest per batch", "ValidationFault"
            )
        answers = [self.company.answer(item if isinstance(item, dict) else {}) for item in items]
        return answer(200, {"BatchItemResponse": answers, "time": self.clock().isoformat()})

    def _failure(self, failure: _Failure) -> ApiReply:
        headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
        if failure.status == 429:
            message = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
            return fault(429, "3001", message, "SERVICE", **headers)
        if failure.status in (401, 403):
            return fault(failure.status, "3100", "ApplicationAuthorizationFailed", "AUTHORIZATION")
        return fault(
            failure.status, "10000", "An application error has occurred", "SERVICE", **headers
        )


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode(errors="replace"))
