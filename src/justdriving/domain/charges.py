"""Charges to a saved method: why one is made (its reason keys it), and what a decline means."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Final

from attrs import frozen

from justdriving.domain.errors import InvalidInput

# Decline codes (Stripe's vocabulary, which others map onto) after which charging the same card
# later can succeed: money or limits may be there tomorrow, a busy issuer may answer.
RETRYABLE_DECLINES = frozenset(
    {
        "insufficient_funds",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
        "processing_error",
        "issuer_not_available",
        "try_again_later",
        "approve_with_id",
        "reenter_transaction",
        "generic_decline",
        "card_declined",
        # Vipps MobilePay Recurring's failureReason: the student's card cannot pay now (its
        # examples: insufficient funds, an expired or blocked card) and the student fixes it in
        # the app; or a failure inside Vipps MobilePay. Not `non_technical_error` (the student
        # deleted their profile) nor `charge_amount_too_high` (above the student's maximum).
        "user_action_required",
        "technical_error",
    }
)


# After a retryable decline the card is tried again this long after each declined attempt;
# past the last step the charge stands declined (it is owed by the invoice's pay link).
RETRY_LADDER: Final = (timedelta(days=1), timedelta(days=3), timedelta(days=7))


def retry_after(declines: int) -> timedelta | None:
    """How long after the `declines`-th declined attempt (from 1) the card is tried again;
    None when the ladder is climbed."""
    return RETRY_LADDER[declines - 1] if 1 <= declines <= len(RETRY_LADDER) else None


class ChargeKind(enum.StrEnum):
    NO_SHOW_FEE = "no_show_fee"
    LATE_CANCELLATION_FEE = "late_cancellation_fee"
    INSTALMENT = "instalment"
    RECURRING_FEE = "recurring_fee"
    DEPOSIT = "deposit"


@frozen
class ChargeReason:
    """Why a saved method is charged: a kind and what it is for (the booking of a no-show fee,
    the plan and number of an instalment). The same reason is the same charge: its key derives
    the payment and the provider's idempotency key, so a retry never charges twice."""

    kind: ChargeKind
    reference: str

    def __attrs_post_init__(self) -> None:
        if not self.reference.strip() or len(self.reference) > 120:
            raise InvalidInput("a charge reason names what it is for (1 to 120 characters)")

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.reference}"

    @classmethod
    def from_key(cls, key: str) -> ChargeReason:
        """The reason whose `key` this is; InvalidInput for a key that names none."""
        kind, _, reference = key.partition(":")
        try:
            return cls(ChargeKind(kind), reference)
        except ValueError:
            raise InvalidInput(f"not a charge reason: {key[:60]!r}") from None


def decline_is_retryable(decline_code: str | None) -> bool:
    """Whether a later charge to the same card can succeed after this decline: yes for
    insufficient funds and other passing states, no for a stolen, lost or closed card, fraud,
    or a code we do not know."""
    return decline_code in RETRYABLE_DECLINES
