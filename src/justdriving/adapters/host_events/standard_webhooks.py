"""The host application's webhook endpoint behind the HostEventSender port: each delivery is
POSTed as JSON and signed per the Standard Webhooks specification (`webhook-id`,
`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the
secret `whsec_`-prefixed base64), using the specification's reference library
(`standardwebhooks`) rather than our own HMAC code.

Imported only by the container: importing it loads httpx and standardwebhooks.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.ports.clock import Clock
from justdriving.ports.host_events import HostDelivery

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
URL_SETTING = "HOST_WEBHOOK_URL"
SECRET_SETTING = "HOST_WEBHOOK_SECRET"  # noqa: S105 - a setting name
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def signer(secret: str) -> Webhook:
    """The Standard Webhooks signer for a `whsec_…` secret; a malformed one is a configuration
    error naming the setting, never echoing the secret."""
    problem = [f"{SECRET_SETTING}: whsec_ followed by base64 of at least 18 random bytes"]
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError:  # binascii.Error
        key = b""
    if not secret.startswith("whsec_") or len(key) < 18:
        raise ConfigurationError(
            "the host webhook secret is not a Standard Webhooks secret", problem
        )
    return Webhook(key)


class StandardWebhookSender:
    """POSTs each delivery to `url`, signed with `secret`; the timestamp is the clock's."""

    name = "host"

    def __init__(
        self, url: str, secret: str, clock: Clock, *, http: httpx.Client | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("the host webhook URL is not a URL", [URL_SETTING])
        self._url, self._signer, self._clock = url, signer(secret), clock
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)

    def __repr__(self) -> str:  # the secret stays out of every repr and log line
        return f"StandardWebhookSender({urlsplit(self._url).hostname!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def headers(self, delivery: HostDelivery) -> dict[str, str]:
        moment = self._clock.now()
        return {
            "content-type": "application/json",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": self._signer.sign(delivery.webhook_id, moment, delivery.body),
        }

    def send(self, delivery: HostDelivery) -> None:
        try:
            response = self._http.post(
                self._url, content=delivery.body, headers=self.headers(delivery)
            )
        except httpx.TransportError as error:
            sent = not isinstance(error, _NOT_SENT)
            raise ProviderUnavailable(
                self.name,
                f"the host endpoint is unreachable ({type(error).__name__})",
                possibly_done=sent,
            ) from error
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 410:  # Gone: the host says it wants no more of these
            raise ProviderRejected(
                self.name, "the host endpoint answered 410 Gone", provider_code="410"
            )
        raise ProviderUnavailable(  # any other answer: the host may recover; retried
            self.name,
            f"the host endpoint answered {status}",
            provider_code=str(status),
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
