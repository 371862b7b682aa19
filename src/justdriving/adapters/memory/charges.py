"""The fake gateway's own records: what the provider knows about a charge and a refund."""

from __future__ import annotations

from attrs import define, field

from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode, PaymentStatus
from justdriving.domain.refunds import RefundStatus


@define
class FakeCharge:
    """The provider's side of one payment. `refunded` counts pending and succeeded refunds."""

    provider_payment_id: str
    payment_id: str
    amount: Money
    capture_mode: CaptureMode
    metadata: dict[str, str]
    status: PaymentStatus = PaymentStatus.PENDING
    authorized: Money | None = None
    application_fee: Money | None = None  # the platform's, on a connected account
    captured: Money = field()
    refunded: Money = field()

    @captured.default
    def _no_capture(self) -> Money:
        return Money.zero(self.amount.currency)

    @refunded.default
    def _no_refund(self) -> Money:
        return Money.zero(self.amount.currency)


@define
class FakeRefund:
    provider_refund_id: str
    refund_id: str
    provider_payment_id: str
    amount: Money
    reason: str
    status: RefundStatus
