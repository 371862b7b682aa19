"""The PayLinks port: `PUBLIC_BASE_URL/pay/<invoice id>`, the page that starts the checkout for
that invoice (see entrypoints.web.pay). An invoice id is a random UUID: the link is a bearer
link, like the hosted invoice pages payment providers e-mail."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

PAY_PATH: Final = "/pay/{invoice_id}"


class PublicPayLinks:
    """Links under `base_url`; none when it is not set (nothing public to link to)."""

    def __init__(self, base_url: str | None) -> None:
        self._base = base_url.rstrip("/") if base_url else None

    def for_invoice(self, invoice_id: str) -> str | None:
        if self._base is None:
            return None
        return self._base + PAY_PATH.format(invoice_id=quote(invoice_id, safe=""))
