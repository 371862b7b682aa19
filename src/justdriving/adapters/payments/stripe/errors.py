"""stripe-python's errors translated into justdriving's, so that no SDK type leaves the adapter."""

from __future__ import annotations

from collections.abc import Mapping

import stripe

from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
)


def translate(error: stripe.StripeError, provider: str) -> JustDrivingError:
    """The justdriving error for a failed Stripe call; raise it `from error`."""
    message = f"{type(error).__name__}: {error.user_message or 'no message'}"
    status = error.http_status
    if isinstance(error, stripe.CardError):
        decline = error.error.decline_code if error.error is not None else None
        return PaymentDeclined(provider, message, provider_code=decline or error.code)
    if isinstance(error, stripe.RateLimitError):
        return ProviderUnavailable(
            provider, message, provider_code="rate_limit", retry_after=retry_after(error.headers)
        )
    if isinstance(error, stripe.APIConnectionError):
        # A timeout or a dropped connection: Stripe may have acted before the answer was lost.
        return ProviderUnavailable(provider, message, possibly_done=True)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return ConfigurationError(
            f"{provider} refused the credentials", [f"PAYMENT_PROVIDER_SECRET ({message})"]
        )
    if isinstance(error, stripe.IdempotencyError):
        return ProviderRejected(provider, message, provider_code="idempotency_error")
    if isinstance(error, stripe.InvalidRequestError):
        return ProviderRejected(provider, message, provider_code=error.code)
    if status is None or status >= 500 or status == 409:
        # 5xx: Stripe may have acted; 409: the same key is still being processed. Retry both.
        return ProviderUnavailable(
            provider,
            message,
            provider_code=error.code,
            retry_after=retry_after(error.headers),
            possibly_done=True,
        )
    return ProviderRejected(provider, message, provider_code=error.code)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header, when there is one and it is a number of seconds."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            return retry_after_seconds(value)
    return None
