"""A provider's JSON answer over HTTP, read the one way every REST adapter without an SDK
reads it (PayPal, Vipps MobilePay): an error status becomes the provider's own error, an
empty body is an empty object, and anything but a JSON object after a 2xx is a failure whose
outcome is unknown for a write (the provider may have done it; the retry's idempotency key
settles it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from justdriving.domain.errors import JustDrivingError, ProviderUnavailable

if TYPE_CHECKING:
    import httpx

ErrorFor = Callable[[str, str, "httpx.Response"], JustDrivingError]


def json_answer(
    provider: str, method: str, path: str, response: httpx.Response, error_for: ErrorFor
) -> dict[str, Any]:
    """The answer's JSON object; `error_for(method, path, response)` for a status of 300 or
    more; ProviderUnavailable (possibly done unless a GET) for a body that is not an object."""
    if response.status_code >= 300:
        raise error_for(method, path, response)
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderUnavailable(
            provider,
            f"{method} {path} answered {response.status_code} without a JSON object",
            possibly_done=method != "GET",
        )
    return data
