"""A local Xero: the identity token endpoint and the Accounting API endpoints the Xero adapter
uses, on 127.0.0.1, for tests, demos and the accounting benchmark.

    with XeroSimulator() as xero:
        grants.save(xero.grant())                 # what the consent flow would have stored
        client = XeroAccountingClient(xero.client_id, xero.client_secret, xero.tenant_id,
                                      grants, api_base=xero.base_url,
                                      identity_base=xero.base_url, payment_account_code="090")

What it does as Xero does:
- OAuth2: access tokens expire after `access_ttl` seconds of its clock; each refresh rotates the
  refresh token and the previous one stops working at once (Xero documents a grace period for a
  lost answer; the simulator is stricter); refresh tokens expire after `refresh_ttl`.
- The authorisation-code flow without the browser: `authorization_code(redirect_uri)` is the
  code a consent would redirect with; the token endpoint exchanges it once, for that
  redirect_uri only (grant_type=authorization_code), and GET /connections lists `connections`
  (its organisation; add more to act as a person who connected several).
- `xero-tenant-id` must name an organisation the access token reaches (403 otherwise).
- Several organisations (`add_organisation`): each its own books, its own rate limits and its
  own Idempotency-Keys; a token reaches the organisations its consent connected (`grant` and
  `authorization_code` take them), as Xero's tokens belong to a person, not an organisation.
- Per-element validation (books.py), `summarizeErrors`, and Idempotency-Key: the same key with
  the same request replays the first answer and writes nothing; with another request it is 400.
- The rate limits, exactly (quota.py): 5 concurrent, 60 per rolling minute, 5,000 per rolling
  day, answered 429 with X-Rate-Limit-Problem and Retry-After. `quota` keeps the counters.
Its clock is injectable (`clock`, e.g. SimulatedTime.now from clock.py), so limits can be
exercised in simulated time; `latency` is real seconds each API call takes, so calls overlap.
Nothing happens at import time; the server runs between `start()` and `stop()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from attrs import define

from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.wire import ApiReply
from justdriving.testing.xero import endpoints
from justdriving.testing.xero.books import Books
from justdriving.testing.xero.endpoints import RecordedRequest
from justdriving.testing.xero.quota import Quota
from justdriving.testing.xero.tokens import TokenSide, XeroConnection

__all__ = ["RecordedRequest", "SimulatorError", "XeroConnection", "XeroSimulator"]


class SimulatorError(Exception):
    """A test asked the simulator for something it cannot do."""


@define
class _Failure:
    status: int
    path: str | None
    processed: bool


class XeroSimulator(TokenSide, Served):
    """Xero's identity and Accounting API in a ThreadingHTTPServer; a context manager."""

    def __init__(
        self,
        *,
        client_id: str = "SIMXEROCLIENT0000000000000000001",
        client_secret: str = "sim-xero-client-secret",  # noqa: S107 - the simulator's own
        tenant_id: str = "3f1b6a52-0000-4c5e-9d1a-5151a7ed0001",
        organisation: str = "Køreskolen Demo ApS",
        clock: Callable[[], datetime] | None = None,
        access_ttl: int = 1800,
        refresh_ttl: timedelta = timedelta(days=60),
        concurrent: int = 5,
        per_minute: int = 60,
        per_day: int = 5000,
        latency: float = 0.0,
        accounts: Mapping[str, str] | None = None,
        tax_types: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.client_id, self.client_secret, self.tenant_id = client_id, client_secret, tenant_id
        self.connections: dict[str, str] = {tenant_id: organisation}  # tenant id -> name
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.access_ttl, self.refresh_ttl, self.latency = access_ttl, refresh_ttl, latency
        first = Books()
        if accounts is not None:
            first.accounts = dict(accounts)
        if tax_types is not None:
            first.tax_types = dict(tax_types)
        self.organisations: dict[str, Books] = {tenant_id: first}  # tenant id -> its books
        self._serving = tenant_id  # whose books `books` is, while a request is answered
        self.quota = Quota(
            lambda: self.clock().timestamp(),
            concurrent=concurrent,
            per_minute=per_minute,
            per_day=per_day,
        )
        self.requests: list[RecordedRequest] = []
        self.tokens_issued = 0
        self.replays = 0  # answers given again for a repeated Idempotency-Key
        self.largest_batch = 0
        self._access: dict[str, datetime] = {}
        self._refresh: dict[str, datetime] = {}
        self._reach: dict[str, frozenset[str]] = {}  # a token -> the tenants it reaches
        self._codes: dict[str, tuple[str, frozenset[str]]] = {}  # code -> redirect_uri, reach
        self._replies: dict[tuple[str, str], tuple[tuple[str, str, str, bytes], ApiReply]] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._server = LocalServer.serving(endpoints.serve(self), provider="xero")

    # Running.

    @property
    def base_url(self) -> str:
        """Both the api_base and the identity_base of the adapter."""
        if not self._server.running:
            raise SimulatorError("the simulator is not running; use it as a context manager")
        return self._server.base_url

    # Organisations.

    @property
    def books(self) -> Books:
        """The first organisation's books (or, while a request is answered, its tenant's)."""
        return self.organisations[self._serving]

    @books.setter
    def books(self, books: Books) -> None:
        self.organisations[self._serving] = books

    def add_organisation(self, tenant_id: str, name: str) -> Books:
        """Another organisation (its own books, with the first one's accounts and taxes)."""
        with self._lock:
            first = self.organisations[self.tenant_id]
            books = Books(accounts=dict(first.accounts), tax_types=dict(first.tax_types))
            self.organisations[tenant_id.lower()] = books
            self.connections[tenant_id.lower()] = name
            return books

    def books_of(self, tenant_id: str) -> Books:
        return self.organisations[tenant_id.lower()]

    # Failures on demand.

    def fail_next(
        self, status: int = 503, *, path: str | None = None, processed: bool = False
    ) -> None:
        """ApiReply the next API call (to `path`, default any) with `status`; `processed=True`
        does the work first and loses the answer (an ambiguous outcome)."""
        with self._lock:
            self._failures.append(_Failure(status, path, processed))

    # Looking in.

    def count(self, kind: str, tenant_id: str | None = None) -> int:
        """How many contacts, invoices, payments, credit_notes or allocations the books (of
        `tenant_id`, default the first organisation) hold."""
        with self._lock:
            return len(getattr(self.organisations[(tenant_id or self.tenant_id).lower()], kind))

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.removeprefix(endpoints.API_PATH) == path
                and (method is None or r.method == method)
            ]

    def note_batch(self, size: int) -> None:
        self.largest_batch = max(self.largest_batch, size)

    # The HTTP side.

    def handle(self, request: RecordedRequest) -> ApiReply:
        with self._lock:
            self.requests.append(request)
            if request.path == endpoints.TOKEN_PATH and request.method == "POST":
                return endpoints.token(self, request)
            if request.path == endpoints.CONNECTIONS_PATH and request.method == "GET":
                return endpoints.connections(self, request)
            refused = self._refuse(request)
        if refused is not None:
            return refused
        tenant = request.headers.get("xero-tenant-id", "").lower()
        throttle = self.quota.admit(tenant)
        if throttle is not None:
            return endpoints.answer(
                429,
                {"Title": "Too Many Requests", "Status": 429},
                **{"Retry-After": str(throttle.retry_after)},
                **{"X-Rate-Limit-Problem": throttle.problem},
                **self.quota.remaining(tenant),
            )
        try:
            endpoints.pause(self.latency)
            with self._lock:
                self._serving = tenant
                try:
                    answer = self._answer(request, tenant)
                finally:
                    self._serving = self.tenant_id
        finally:
            self.quota.finish(tenant)
        return ApiReply(
            answer.status, answer.body, {**answer.headers, **self.quota.remaining(tenant)}
        )

    def _refuse(self, request: RecordedRequest) -> ApiReply | None:
        """401 for a missing or stale token, 403 for another organisation."""
        if not request.path.startswith(endpoints.API_PATH + "/"):
            return endpoints.problem(
                404, "NotFound", "The resource you're looking for cannot be found"
            )
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        expires = self._access.get(token)
        if expires is None or self.clock() >= expires:
            return endpoints.problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        tenant = request.headers.get("xero-tenant-id", "").lower()
        if tenant not in self.organisations or tenant not in self._reach.get(token, ()):
            return endpoints.problem(403, "Forbidden", "AuthorizationUnsuccessful")
        return None

    def _answer(self, request: RecordedRequest, tenant: str) -> ApiReply:
        failure = self._failure_for(request.path)
        if failure is not None and not failure.processed:
            return endpoints.problem(failure.status, "Simulated", "a failure the test asked for")
        given = request.idempotency_key if request.method in ("POST", "PUT") else None
        key = (tenant, given) if given else None  # keys are the organisation's own
        fingerprint = (request.method, request.path, request.query, request.body)
        if key and key in self._replies:
            seen, answer = self._replies[key]
            if seen != fingerprint:
                return endpoints.exception(
                    "IdempotencyKeyMismatch", "This Idempotency-Key was used for another request"
                )
            self.replays += 1
        else:
            answer = endpoints.route(self, request)
            if key and answer.status < 500:
                self._replies[key] = (fingerprint, answer)
        if failure is not None:
            return endpoints.problem(failure.status, "Simulated", "the answer was lost")
        return answer

    def _failure_for(self, path: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.path is None or endpoints.API_PATH + failure.path == path:
                return self._failures.pop(index)
        return None
