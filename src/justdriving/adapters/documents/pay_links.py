"""The PayLinks port: `PUBLIC_BASE_URL/pay/<token>`, the page that starts the checkout for one
invoice (see entrypoints.web.pay).

The token is the invoice id signed with PAY_LINK_SECRET and the time it was made
(itsdangerous' TimestampSigner, HMAC-SHA256, on the injected clock): it cannot be made for
another invoice, and it expires PAY_LINK_DAYS after it was made — every reminder carries a
fresh one. An expired token still names its invoice truthfully, so the page can say whose it
was and what to do.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from justdriving.ports.clock import Clock
from justdriving.ports.documents import OpenedPayLink

PAY_PATH: Final = "/pay/{token}"
_SALT: Final = "justdriving.pay-link"


class _ClockedSigner(TimestampSigner):
    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret, salt=_SALT, digest_method=hashlib.sha256)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class PublicPayLinks:
    """Signed, expiring links under `base_url` (none is made when it is not set: nothing
    public to link to; a path still is, for pages of this app)."""

    def __init__(
        self, base_url: str | None, *, secret: str, lifetime: timedelta, clock: Clock
    ) -> None:
        self._base = base_url.rstrip("/") if base_url else None
        self._signer = _ClockedSigner(secret, clock)
        self._lifetime = int(lifetime.total_seconds())

    def for_invoice(self, invoice_id: str) -> str | None:
        if self._base is None:
            return None
        return self._base + self.path_for(invoice_id)

    def path_for(self, invoice_id: str) -> str:
        return PAY_PATH.format(token=self._signer.sign(invoice_id).decode())

    def open(self, token: str) -> OpenedPayLink | None:
        try:
            value = self._signer.unsign(token, max_age=self._lifetime)
        except SignatureExpired as expired:
            if expired.payload is None:
                return None
            return OpenedPayLink(expired.payload.decode("utf-8", "replace"), expired=True)
        except (BadSignature, UnicodeError):
            return None
        return OpenedPayLink(value.decode("utf-8", "replace"), expired=False)
