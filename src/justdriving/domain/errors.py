"""The one exception hierarchy: domain rule breaks and translated provider failures."""

from __future__ import annotations

from collections.abc import Sequence


class JustDrivingError(Exception):
    """Base of every error justdriving raises on purpose."""

    code = "error"


class InvalidInput(JustDrivingError, ValueError):
    """A value handed to justdriving is malformed or out of range."""

    code = "invalid_input"


class InvalidMoney(InvalidInput):
    """An amount is not an integer of minor units, or has more decimals than its currency."""

    code = "invalid_money"


class CurrencyMismatch(InvalidInput):
    """Two amounts of different currencies were combined."""

    code = "currency_mismatch"


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone_number"


class InvalidEmailAddress(InvalidInput):
    code = "invalid_email_address"


class InvalidCvrNumber(InvalidInput):
    """A Danish CVR number that is not exactly 8 digits."""

    code = "invalid_cvr_number"


class NotFound(JustDrivingError, LookupError):
    """The record asked for does not exist (in this school)."""

    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class InvalidTransition(JustDrivingError):
    """A state machine was asked to move where its rules do not allow."""

    code = "invalid_transition"

    def __init__(self, kind: str, current: str, action: str) -> None:
        super().__init__(f"cannot {action} a {kind} that is {current}")
        self.kind = kind
        self.current = current
        self.action = action


class TeacherDoubleBooked(JustDrivingError):
    code = "teacher_double_booked"


class BookingNotAllowed(JustDrivingError):
    """A school's booking rule (horizon, lead time, overdue balance) refuses the booking."""

    code = "booking_not_allowed"


class PackageExhausted(JustDrivingError):
    code = "package_exhausted"


class RefundExceedsCaptured(JustDrivingError):
    code = "refund_exceeds_captured"


class PaymentNotAllowed(JustDrivingError):
    code = "payment_not_allowed"


class CapabilityNotSupported(PaymentNotAllowed):
    """The school's gateway cannot do this at all (PayPal and manual payments keep no card on
    file): asking again will not help, choosing another gateway would."""

    code = "capability_not_supported"

    def __init__(self, provider: str, capability: str) -> None:
        super().__init__(f"{provider} cannot {capability}")
        self.provider, self.capability = provider, capability


class ChargesNotEnabled(PaymentNotAllowed):
    """The school takes card payments through its own connected Stripe account, and Stripe
    has not enabled charges on it yet (onboarding unfinished, or paused by Stripe)."""

    code = "charges_not_enabled"


class PayLinkExpired(JustDrivingError):
    """A pay link past its lifetime (PAY_LINK_DAYS): the latest reminder carries a fresh one."""

    code = "pay_link_expired"


class ConcurrencyConflict(JustDrivingError):
    """Someone else changed the record first; nothing was written. Retry or report."""

    code = "concurrency_conflict"


class DuplicateRecord(JustDrivingError):
    code = "duplicate_record"


class ConfigurationError(JustDrivingError):
    """Settings are missing or wrong; `problems` names every bad setting."""

    code = "configuration_error"

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        detail = "; ".join(problems)
        super().__init__(f"{message}: {detail}" if detail else message)
        self.problems = tuple(problems)


class BooksNotConnected(ConfigurationError):
    """A school's books are not reachable: it connected no Xero organisation or QuickBooks
    company (and there is no platform-wide one), or its grant was refused (revoked, expired).
    What waits for its books waits until it connects again; nothing is lost."""

    code = "books_not_connected"

    def __init__(
        self, message: str, problems: Sequence[str] = (), *, school_id: str | None = None
    ) -> None:
        super().__init__(message, problems)
        self.school_id = school_id


class ProviderError(JustDrivingError):
    """A provider call failed. `retryable` says whether trying again can help."""

    code = "provider_error"
    retryable = False

    def __init__(self, provider: str, message: str, *, provider_code: str | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.provider_code = provider_code


class PaymentDeclined(ProviderError):
    """The payer's bank or the provider declined; `provider_code` holds the decline code."""

    code = "payment_declined"


class ProviderRejected(ProviderError):
    """The provider refused the request as invalid; sending it again will not help."""

    code = "provider_rejected"


class RecipientSuppressed(ProviderRejected):
    """The recipient opted out, bounced hard or complained; never send again unasked."""

    code = "recipient_suppressed"


class ProviderUnavailable(ProviderError):
    """Timeout, connection error, 5xx or rate limit. `possibly_done` marks an ambiguous outcome."""

    code = "provider_unavailable"
    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        provider_code: str | None = None,
        retry_after: float | None = None,
        possibly_done: bool = False,
    ) -> None:
        super().__init__(provider, message, provider_code=provider_code)
        self.retry_after = retry_after
        self.possibly_done = possibly_done


class WebhookRejected(JustDrivingError):
    """An inbound webhook failed verification or could not be parsed; nothing was stored."""

    code = "webhook_rejected"


class InvalidSignature(WebhookRejected):
    code = "invalid_signature"


class MalformedWebhook(WebhookRejected):
    code = "malformed_webhook"


class UnusableWebhook(MalformedWebhook):
    """The signature held, but the content cannot be used: the delivery is acknowledged and
    kept in the inbox as rejected, so the provider stops sending it."""

    code = "unusable_webhook"
