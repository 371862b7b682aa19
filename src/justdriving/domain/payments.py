"""Student payments, online or manual: a forward-only state machine fed by provider events."""

from __future__ import annotations

from datetime import datetime

from attrs import define, field

from justdriving.domain.charges import decline_is_retryable
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput, InvalidTransition, RefundExceedsCaptured
from justdriving.domain.events import (
    CustomerChargeDeclined,
    CustomerChargeRequiresAction,
    EventLog,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentSucceeded,
)
from justdriving.domain.ids import BookingId, InvoiceId, PackageId, PaymentId, SchoolId, StudentId
from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payment_status import (
    _STATUS_FOR,
    CaptureMode,
    EventOutcome,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)

__all__ = [
    "CaptureMode",
    "EventOutcome",
    "Payment",
    "PaymentMethod",
    "PaymentPurpose",
    "PaymentStatus",
]


@define(eq=False)
class Payment(Entity):
    id: PaymentId
    school_id: SchoolId
    student_id: StudentId
    amount: Money
    method: PaymentMethod
    purpose: PaymentPurpose
    created_at: datetime
    invoice_id: InvoiceId | None = None
    booking_id: BookingId | None = None
    package_id: PackageId | None = None
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC
    provider: str | None = None
    provider_payment_id: str | None = None
    # A second id the provider uses for the same payment (Stripe Checkout: the session's
    # PaymentIntent, which later disputes name), learnt from its events.
    provider_alias: str | None = None
    # What the payer's front end needs to finish it (Stripe's client secret, a hosted page),
    # kept so that starting the same payment again gives the same checkout.
    client_secret: str | None = field(default=None, repr=False)
    redirect_url: str | None = None
    status: PaymentStatus = PaymentStatus.PENDING
    status_at: datetime | None = None
    captured: Money = field()
    refunded: Money = field()
    refund_reserved: Money = field()
    unapplied: Money = field()  # captured but owed on no invoice: the student's credit
    failure_reason: str | None = None
    reference: str | None = None
    # A charge to a saved card, made without the student: why (ChargeReason.key) and which card.
    charge_reason: str | None = None
    charged_method_id: str | None = None
    # Made on a school's connected Stripe account (Connect): which, and the platform's fee.
    connected_account: str | None = None
    platform_fee: Money | None = None
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    @captured.default
    def _zero_captured(self) -> Money:
        return Money.zero(self.amount.currency)

    @refunded.default
    def _zero_refunded(self) -> Money:
        return Money.zero(self.amount.currency)

    @refund_reserved.default
    def _zero_reserved(self) -> Money:
        return Money.zero(self.amount.currency)

    @unapplied.default
    def _zero_unapplied(self) -> Money:
        return Money.zero(self.amount.currency)

    def __attrs_post_init__(self) -> None:
        if not self.amount.is_positive:
            raise InvalidInput("a payment is a positive amount")

    @property
    def refundable(self) -> Money:
        """Captured minus refunded minus refunds still in flight."""
        return self.captured - self.refunded - self.refund_reserved

    def record_manual(self, now: datetime, reference: str | None = None) -> None:
        """Staff took cash, a bank transfer or MobilePay: captured in full at once."""
        if self.method is PaymentMethod.ONLINE:
            raise InvalidInput("an online payment is confirmed by its provider")
        if self.status is not PaymentStatus.PENDING:
            raise InvalidTransition("payment", self.status, "record")
        self.reference = reference
        self._succeed(self.amount, now)

    @property
    def is_open(self) -> bool:
        """Still collecting: neither paid, canceled nor held (a failed attempt may be retried)."""
        return not self.status.is_final

    def attach(
        self,
        provider: str,
        provider_payment_id: str,
        *,
        client_secret: str | None = None,
        redirect_url: str | None = None,
    ) -> None:
        if self.provider_payment_id not in (None, provider_payment_id):
            raise InvalidTransition("payment", "already started", "start")
        self.provider, self.provider_payment_id = provider, provider_payment_id
        self.client_secret = client_secret or self.client_secret
        self.redirect_url = redirect_url or self.redirect_url

    def learn_alias(self, provider_payment_id: str | None) -> None:
        known = (self.provider_payment_id, self.provider_alias)
        if provider_payment_id is not None and provider_payment_id not in known:
            self.provider_alias = self.provider_alias or provider_payment_id

    def is_with(self, provider: str) -> bool:
        """Whether `provider` holds this payment: only its events may say anything about it."""
        return self.method is PaymentMethod.ONLINE and self.provider == provider

    def apply(self, event: ProviderPaymentEvent) -> EventOutcome:
        """Move forward on a provider event; a late or repeated event, or one from a provider
        that does not hold this payment, changes nothing."""
        if not self.is_with(event.provider):
            return EventOutcome.IGNORED
        target = _STATUS_FOR.get(event.kind)
        if target is None or not self._moves_forward(target, event.occurred_at):
            return EventOutcome.IGNORED
        if target in (PaymentStatus.SUCCEEDED, PaymentStatus.AUTHORIZED):
            mismatch = self._mismatch(event.amount)
            if mismatch:
                self.status, self.status_at = PaymentStatus.HELD_FOR_REVIEW, event.occurred_at
                self.failure_reason = mismatch
                self.events.record(
                    PaymentHeldForReview(
                        event.occurred_at, self.id, mismatch, school_id=self.school_id
                    )
                )
                return EventOutcome.HELD
        if target is PaymentStatus.SUCCEEDED:
            self._succeed(self.amount, event.occurred_at)  # what the provider reported
            return EventOutcome.APPLIED
        self.status, self.status_at = target, event.occurred_at
        if target is PaymentStatus.FAILED:
            self.failure_reason = event.failure_code
            self.events.record(
                PaymentFailed(
                    event.occurred_at, self.id, event.failure_code, school_id=self.school_id
                )
            )
        elif target is PaymentStatus.AUTHORIZED:
            self.events.record(
                PaymentAuthorized(event.occurred_at, self.id, school_id=self.school_id)
            )
        elif target is PaymentStatus.CANCELED:
            self.events.record(
                PaymentCanceled(event.occurred_at, self.id, school_id=self.school_id)
            )
        return EventOutcome.APPLIED

    def wait_for_payer(self, now: datetime) -> None:
        """A charge to a saved card that the bank wants the student to authenticate: the
        payment waits for them (the pay link follows its event)."""
        self._check_charge("wait for the student")
        self.status, self.status_at = PaymentStatus.REQUIRES_ACTION, now
        self.events.record(
            CustomerChargeRequiresAction(
                now,
                self.id,
                self.student_id,
                self.charge_reason or "",
                school_id=self.school_id,
            )
        )

    def decline_charge(self, decline_code: str | None, now: datetime) -> None:
        """The bank declined a charge to a saved card, for `decline_code`."""
        self._check_charge("decline")
        self.status, self.status_at = PaymentStatus.FAILED, now
        self.failure_reason = decline_code
        self.events.record(PaymentFailed(now, self.id, decline_code, school_id=self.school_id))
        self.events.record(
            CustomerChargeDeclined(
                now,
                self.id,
                self.student_id,
                self.charge_reason or "",
                decline_code,
                decline_is_retryable(decline_code),
                school_id=self.school_id,
            )
        )

    @property
    def retryable_decline(self) -> bool:
        """A charge to a saved card that failed where charging the card again can succeed."""
        return self.status is PaymentStatus.FAILED and decline_is_retryable(self.failure_reason)

    def _check_charge(self, action: str) -> None:
        if self.charge_reason is None:
            raise InvalidTransition("payment", "not a charge to a saved card", action)
        if self.status is not PaymentStatus.PENDING:
            raise InvalidTransition("payment", self.status, action)

    def approve(self, amount: Money, now: datetime) -> None:
        """Staff checked with the provider what a payment held for review brought: it
        succeeds with `amount` (counted against its invoice like any success)."""
        if self.status is not PaymentStatus.HELD_FOR_REVIEW:
            raise InvalidTransition("payment", self.status, "approve")
        if amount.currency != self.amount.currency or not amount.is_positive:
            raise InvalidInput(
                f"an approved payment is a positive amount in {self.amount.currency}"
            )
        self.failure_reason = f"approved after review ({self.failure_reason})"
        self._succeed(amount, now)

    def write_off(self, reason: str, now: datetime) -> None:
        """Staff decided a payment held for review counts for nothing (no money arrived, or
        it is settled outside): closed as canceled, its invoice still to pay."""
        if self.status is not PaymentStatus.HELD_FOR_REVIEW:
            raise InvalidTransition("payment", self.status, "write off")
        if not reason.strip():
            raise InvalidInput("a write-off needs a reason")
        self.status, self.status_at = PaymentStatus.CANCELED, now
        self.failure_reason = f"written off after review: {reason.strip()[:200]}"
        self.events.record(PaymentCanceled(now, self.id, school_id=self.school_id))

    def reserve_refund(self, amount: Money) -> None:
        if not amount.is_positive:
            raise InvalidInput("a refund is a positive amount")
        if self.status is not PaymentStatus.SUCCEEDED:
            raise InvalidTransition("payment", self.status, "refund")
        if amount > self.refundable:
            raise RefundExceedsCaptured(f"at most {self.refundable} can still be refunded")
        self.refund_reserved = self.refund_reserved + amount

    def settle_refund(self, amount: Money, *, succeeded: bool) -> None:
        """A reserved refund ended: booked as refunded, or released for another try."""
        self.refund_reserved = self.refund_reserved - amount
        if succeeded:
            self.refunded = self.refunded + amount

    def _moves_forward(self, target: PaymentStatus, at: datetime) -> bool:
        if self.status.is_final:
            return False
        if target.rank != self.status.rank:
            return target.rank > self.status.rank
        newer = self.status_at is None or at > self.status_at
        if target is self.status:
            if newer:  # the same news, later: remember when, so older news cannot override it
                self.status_at = at
            return False
        return newer

    def _mismatch(self, reported: Money | None) -> str | None:
        """Why the money a provider reports cannot be trusted: an event that does not state
        its amount and currency is never taken as the amount we expected."""
        if reported is None:
            return f"provider reported no amount, expected {self.amount}"
        if reported == self.amount:
            return None
        return f"provider reported {reported}, expected {self.amount}"

    def _succeed(self, amount: Money, now: datetime) -> None:
        self.status, self.status_at, self.captured = PaymentStatus.SUCCEEDED, now, amount
        self.unapplied = amount
        self.events.record(PaymentSucceeded(now, self.id, amount, school_id=self.school_id))
