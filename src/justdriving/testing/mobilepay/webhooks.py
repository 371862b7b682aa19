"""The Webhooks API of the Vipps MobilePay simulator: hooks registered per sales unit, and every
event signed (HMAC-SHA256, as the Webhooks API documents it) and delivered to the hooks that
asked for it."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.mobilepay.merchants import Merchant, Shared, Webhook
from justdriving.testing.mobilepay.wire import SimulatorError
from justdriving.testing.wire import Delivery


def sign(body: bytes, at: datetime, secret: str, url: str) -> dict[str, str]:
    """The headers a delivery of `body` to `url` carries, signed with the hook's secret."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    date = format_datetime(at.astimezone(UTC), usegmt=True)
    hashed = base64.b64encode(hashlib.sha256(body).digest()).decode()
    signed = f"POST\n{path}\n{date};{parts.netloc};{hashed}"
    mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(mac).decode()
    return {
        "Content-Type": "application/json",
        "Host": parts.netloc,
        "x-ms-date": date,
        "x-ms-content-sha256": hashed,
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={signature}",
    }


class WebhookSide(Shared):
    """Registering hooks and delivering events, for MobilePaySimulator."""

    deliveries: list[Delivery]
    post_deliveries: bool

    sign = staticmethod(sign)

    def delivery_of(self, psp_reference: str) -> Delivery:
        """The delivery of the event of one operation (a refund's, a capture's)."""
        with self._lock:
            for body, headers in reversed(self.deliveries):
                if json.loads(body).get("pspReference") == psp_reference:
                    return body, headers
        raise SimulatorError(f"no delivery for {psp_reference}")

    def _register(self, merchant: Merchant, url: str, events: tuple[str, ...]) -> dict[str, str]:
        hook = Webhook(
            str(uuid.uuid4()), url, events, base64.b64encode(secrets.token_bytes(48)).decode()
        )
        merchant.webhooks[hook.id] = hook
        return {"id": hook.id, "secret": hook.secret}

    def _deliver(
        self, merchant: Merchant, event_type: str, body: bytes, *, force: bool = False
    ) -> Delivery:
        """`body` to every hook of the sales unit that asked for `event_type` (to every hook,
        `force`d); the last delivery, or the unsigned body when no hook asked."""
        last: Delivery | None = None
        for hook in merchant.webhooks.values():
            if event_type not in hook.events and not force:
                continue
            headers = sign(body, self.clock(), hook.secret, hook.url)
            last = (body, headers)
            self.deliveries.append(last)
            record_webhook("mobilepay", event_type, body)
            if self.post_deliveries:
                _post(hook.url, body, headers)
        return last if last is not None else (body, {})


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    import httpx

    # Vipps MobilePay would retry a failed delivery; a test reads `deliveries` instead.
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, content=body, headers=dict(headers), timeout=10)
