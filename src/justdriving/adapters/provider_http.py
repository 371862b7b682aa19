"""What a provider answered over HTTP, or why it did not, in justdriving's errors: written once
for every adapter that talks to a provider (PayPal, Vipps MobilePay, GatewayAPI, Mailgun, Xero,
QuickBooks over httpx; Twilio's and SendGrid's SDK clients for the answers and the silences).

The rules, which the relay and the outboxes rely on to decide whether a retry is safe:
- no connection at all (refused, a connect or pool timeout): not a byte left, so the call was
  certainly not made: ProviderUnavailable, `possibly_done` False, retry at will;
- a timeout or a connection lost once the request went out: the provider may have acted, so a
  write is `possibly_done` (its idempotency key, where there is one, settles a retry);
- 401/403: our credentials, a ConfigurationError (or the adapter's own kind) naming the settings;
- 429: not processed: ProviderUnavailable with the wait Retry-After asks for;
- 5xx: ProviderUnavailable, `possibly_done` for a write, with Retry-After when given;
- any other 4xx: ProviderRejected carrying the provider's own reason code.

Each adapter fills one hook, `reason`: how to read its provider's error body (the code and a
text safe to store: no secrets, no personal data). Provider-specific answers (a PayPal decline,
a GatewayAPI blacklist, a Xero daily limit) are the adapter's, checked before these rules.
httpx is imported only when a call is sent, so SDK-based adapters do not load it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from attrs import frozen

from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    ProviderRejected,
    ProviderUnavailable,
)

if TYPE_CHECKING:
    import httpx


class Answer(Protocol):
    """The parts of an HTTP answer the rules read (an httpx.Response has them)."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


@frozen
class Reason:
    """Why the provider refused, in its own code and safe words."""

    code: str
    text: str = ""

    @classmethod
    def of_status(cls, answer: Answer) -> Reason:
        """The reason when the body says nothing useful: the status and its phrase."""
        return cls(str(answer.status_code), answer.reason_phrase)

    def __str__(self) -> str:
        return f"{self.code}: {self.text}" if self.text else self.code


def problem_of(
    answer: httpx.Response, details: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """An error answer's JSON object and the first entry of its `details` list (empty when it
    has none), for an adapter's `reason` hook; None when the answer is not a JSON object."""
    try:
        body = answer.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    entries = body.get(details)
    first = entries[0] if isinstance(entries, list) and entries else {}
    return body, first if isinstance(first, dict) else {}


class ProviderHttp:
    """The error rules for one provider: `provider` names it in errors, `title` in messages,
    `settings` are what a refusal of our credentials names, `refused` its kind, and
    `address_settings` what a URL that is not http(s) names."""

    def __init__(
        self,
        provider: str,
        title: str,
        *,
        settings: Sequence[str] = (),
        reason: Callable[[Any], Reason] = Reason.of_status,
        refused: type[ConfigurationError] = ConfigurationError,
        address_settings: Sequence[str] = (),
    ) -> None:
        self.provider, self.title = provider, title
        self._address_settings = tuple(address_settings)
        self._settings, self._reason, self._refused = tuple(settings), reason, refused

    def __repr__(self) -> str:
        return f"ProviderHttp({self.provider!r})"

    # The silences.

    def not_sent(self, what: str, cause: str) -> ProviderUnavailable:
        """No connection was made: certainly not sent, safe to retry."""
        return ProviderUnavailable(
            self.provider, f"{what}: could not connect to {self.title} ({cause}); nothing was sent"
        )

    def no_answer(
        self, what: str, cause: str, *, timed_out: bool, write: bool
    ) -> ProviderUnavailable:
        """The request went out and no answer came back: a write may have been done."""
        kind = "timed out" if timed_out else "lost the connection"
        outcome = "it may have been done" if write else "nothing was changed"
        return ProviderUnavailable(
            self.provider, f"{what}: {self.title} {kind} ({cause}); {outcome}", possibly_done=write
        )

    def transport_error(
        self, what: str, error: httpx.TransportError, *, write: bool
    ) -> JustDrivingError:
        """The error for an httpx failure before an answer arrived."""
        import httpx

        cause = type(error).__name__
        if isinstance(error, httpx.UnsupportedProtocol):
            return ConfigurationError(
                f"{self.title}'s API address for {what} is not an http(s) URL",
                self._address_settings,
            )
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return self.not_sent(what, cause)
        timed_out = isinstance(error, httpx.TimeoutException)
        return self.no_answer(what, cause, timed_out=timed_out, write=write)

    def send(
        self, http: httpx.Client, method: str, url: str, *, what: str, write: bool, **options: Any
    ) -> httpx.Response:
        """`http.request(method, url, **options)`; a failure without an answer as above."""
        import httpx

        try:
            return http.request(method, url, **options)
        except httpx.TransportError as error:
            raise self.transport_error(what, error, write=write) from error

    def send_json(
        self,
        http: httpx.Client,
        method: str,
        base: str,
        path: str,
        *,
        token: str,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """A call to a JSON API under a bearer token (what PayPal and Vipps MobilePay speak):
        Authorization, Accept and, with a body, Content-Type set beside the provider's own
        `headers`; anything but a GET may have done a write."""
        sent = {"Authorization": f"Bearer {token}", "Accept": "application/json", **headers}
        if content is not None:
            sent["Content-Type"] = "application/json"
        what = f"{method} {path}"
        write = method != "GET"
        return self.send(
            http, method, base + path, what=what, write=write, headers=sent, content=content
        )

    # The answers.

    def reason(self, answer: Answer) -> Reason:
        """The provider's reason, read by the adapter's hook."""
        return self._reason(answer)

    def error_for(self, answer: Answer, what: str, *, write: bool) -> JustDrivingError:
        """The error for an answer with a status of 300 or more."""
        retry_after = retry_after_seconds(answer.headers.get("Retry-After"))
        return self.status_error(
            answer.status_code, self.reason(answer), what, write=write, retry_after=retry_after
        )

    def status_error(
        self,
        status: int,
        reason: Reason,
        what: str,
        *,
        write: bool,
        retry_after: float | None = None,
    ) -> JustDrivingError:
        """The rules on a status and the provider's reason (for SDKs that hand us both)."""
        said = f"{reason.code}: {reason.text}" if reason.code != str(status) else reason.text
        message = f"{what} answered {status} {said}".rstrip()
        if status in (401, 403):
            return self.refused_credentials(status, reason)
        if status == 429:
            return self.not_done(message, reason, retry_after=retry_after)
        if status >= 500:
            return ProviderUnavailable(
                self.provider,
                message,
                provider_code=reason.code,
                retry_after=retry_after,
                possibly_done=write,
            )
        return ProviderRejected(self.provider, message, provider_code=reason.code)

    def refused_credentials(self, status: int, reason: Reason) -> ConfigurationError:
        """Our credentials (or the account's permissions) were refused."""
        return self._refused(
            f"{self.title} refused the credentials ({status} {reason.code})", self._settings
        )

    def not_done(
        self, message: str, reason: Reason, *, retry_after: float | None = None
    ) -> ProviderUnavailable:
        """The provider answered that it did nothing for now (a rate limit): retry later."""
        return ProviderUnavailable(
            self.provider,
            f"{message}; nothing was done",
            provider_code=reason.code,
            retry_after=retry_after,
        )
