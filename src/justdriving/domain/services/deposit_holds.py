"""Deposits held on the card for lessons further off than a hold lasts: charged to the saved
card when the hold would lapse (the worker's job), the hold then released.

Where the school says so (`charge_deposit_at_hold_lapse`) a deposit for a lesson beyond the
card-hold window is held, not charged, at booking when the student has a saved card. A hold
lasts about 7 days; once it has stood for HOLD_WINDOW (a day's margin) and its booking is still
ahead, the deposit is charged to the saved card without the student, keyed by the booking so a
restart or a second worker charges once. A charge that goes through becomes the deposit's
payment and the hold is canceled at the provider; a declined charge (or one the bank wants the
student for) leaves the hold to lapse as it would have, and the deposit is given back then.
"""

from __future__ import annotations

import logging
from datetime import datetime

from attrs import frozen

from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.deposits import HOLD_WINDOW, Deposit, DepositStatus
from justdriving.domain.errors import ConcurrencyConflict, DuplicateRecord, JustDrivingError
from justdriving.domain.ids import PaymentId, derived_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import (
    CaptureMode,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from justdriving.domain.saved_methods import PaymentCustomer, customer_id_for
from justdriving.ports.clock import Clock
from justdriving.ports.payments import (
    ChargeResult,
    ChargeStatus,
    GatewayRegistry,
    PaymentGateway,
    SavedChargeRequest,
)
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("justdriving.deposits")

BATCH = 500  # holds looked at per run (holds live a week: there are never many)
_THROUGH = {
    ChargeStatus.SUCCEEDED: PaymentEventKind.SUCCEEDED,
    ChargeStatus.PROCESSING: PaymentEventKind.PROCESSING,
}


@frozen
class _Charge:
    deposit_id: str
    hold: Payment
    payment: Payment
    request: SavedChargeRequest
    gateway: PaymentGateway


class DepositHolds:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def charge_lapsing_deposits(self) -> int:
        """Charge to the saved card each deposit whose card hold would lapse before its lesson
        (where the school says so). Returns how many were charged."""
        now = self._clock.now()
        with self._uow() as uow:
            holds = uow.payments.recent(BATCH, statuses=[PaymentStatus.AUTHORIZED.value])
            lapsing = [p.id for p in holds if _lapsing(p, now)]
        charged = 0
        for hold_id in lapsing:
            try:
                charged += self._charge(hold_id, now)
            except (ConcurrencyConflict, DuplicateRecord):
                continue  # charged by another worker at the same moment
            except JustDrivingError as error:  # one provider's trouble stops no one else
                log.warning("a lapsing deposit hold was not charged: %s", type(error).__name__)
        return charged

    def _charge(self, hold_id: str, now: datetime) -> int:
        with self._uow() as uow:
            charge = self._plan(uow, hold_id, now)
        if charge is None:
            return 0
        result = charge.gateway.charge_saved(charge.request)
        with self._uow() as uow:
            _store(uow, charge, result, now)
            uow.commit()
        return 1 if result.status in _THROUGH else 0

    def _plan(self, uow: UnitOfWork, hold_id: str, now: datetime) -> _Charge | None:
        hold = uow.payments.get(hold_id)
        deposit = uow.deposits.by_payment(hold.id)
        if deposit is None or deposit.status is not DepositStatus.SECURED:
            return None
        school = uow.schools.get(deposit.school_id)
        booking = uow.bookings.get(deposit.booking_id)
        if not school.settings.charge_deposit_at_hold_lapse or booking.status.is_final:
            return None
        gateway = self._gateways.for_school(school)
        customer = uow.payment_customers.find(
            customer_id_for(school.id, deposit.student_id, gateway.name)
        )
        if customer is None or customer.default_method_id is None:
            return None
        payment = _deposit_charge(deposit, customer, gateway.name, now)
        if uow.payments.find(payment.id) is not None:
            return None  # charged already (declined, or waiting for the student)
        return _Charge(deposit.id, hold, payment, _request(payment, customer), gateway)


def _lapsing(payment: Payment, now: datetime) -> bool:
    held_since = payment.status_at or payment.created_at
    return payment.purpose is PaymentPurpose.DEPOSIT and now - held_since >= HOLD_WINDOW


def _deposit_charge(
    deposit: Deposit, customer: PaymentCustomer, provider: str, now: datetime
) -> Payment:
    reason = ChargeReason(ChargeKind.DEPOSIT, deposit.booking_id)
    return Payment(
        id=PaymentId(derived_id("pay", deposit.booking_id, "deposit", "on-file")),
        school_id=deposit.school_id,
        student_id=deposit.student_id,
        amount=deposit.amount,
        method=PaymentMethod.ONLINE,
        purpose=PaymentPurpose.DEPOSIT,
        created_at=now,
        booking_id=deposit.booking_id,
        capture_mode=CaptureMode.AUTOMATIC,
        provider=provider,
        charge_reason=reason.key,
        charged_method_id=customer.default_method_id,
    )


def _request(payment: Payment, customer: PaymentCustomer) -> SavedChargeRequest:
    return SavedChargeRequest(
        payment_id=payment.id,
        school_id=payment.school_id,
        provider_customer_id=customer.provider_customer_id,
        provider_method_id=payment.charged_method_id or "",
        amount=payment.amount,
        description="deposit",
        idempotency_key=f"charge-{payment.id}",
        metadata={
            "charge_reason": payment.charge_reason or "",
            "booking_id": payment.booking_id or "",
        },
    )


def _store(uow: UnitOfWork, charge: _Charge, result: ChargeResult, now: datetime) -> None:
    """The charge with the provider's answer; one that went through becomes the deposit's
    payment and the hold is released."""
    payment = charge.payment
    payment.attach(result.provider, result.provider_payment_id, client_secret=result.client_secret)
    uow.payments.add(payment)
    if result.status is ChargeStatus.REQUIRES_ACTION:
        payment.wait_for_payer(now)
        return
    if result.status is ChargeStatus.DECLINED:
        payment.decline_charge(result.decline_code, now)
        return
    uow.deposits.get(charge.deposit_id).charged_on_file(payment.id)
    uow.outbox.add(
        OutboxMessage.queued(
            payment.school_id,
            OutboxKind.CANCEL_PAYMENT,
            {"payment_id": charge.hold.id},
            f"cancel-{charge.hold.id}",
            now,
        )
    )
    payment.apply(
        ProviderPaymentEvent(
            provider=result.provider,
            event_id=f"charge:{payment.id}",
            kind=_THROUGH[result.status],
            occurred_at=now,
            raw_type="charge_saved",
            payment_id=payment.id,
            provider_payment_id=result.provider_payment_id,
            amount=result.amount,
        )
    )
