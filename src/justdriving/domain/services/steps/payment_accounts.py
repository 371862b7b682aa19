"""Which account a new card payment is made on, and the platform's fee on it (Connect)."""

from __future__ import annotations

from justdriving.domain.payments import Payment
from justdriving.domain.schools import School
from justdriving.ports.payments import PaymentGateway


def on_account(payment: Payment, school: School, gateway: PaymentGateway) -> None:
    """Record on the (not yet stored) payment the connected account the school's gateway acts
    on, and the school's platform fee on it; a payment on the platform's own account carries
    no fee (there is no one to take it from)."""
    payment.connected_account = gateway.account
    payment.platform_fee = school.platform_fee_on(payment.amount) if gateway.account else None
