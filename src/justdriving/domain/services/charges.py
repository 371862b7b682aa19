"""Charging a student's saved card without them, for a stated reason (what follows a declined
charge, or one where the bank wants the student after all, is in `followups/charges.py`).

A charge is keyed by its reason: the payment's id derives from the school, the student, the
reason and the attempt, and the provider's idempotency key from the payment's id, so asking
again (a retry after an outage, a restart, two callers at once) gives the same payment and the
provider charges once. Only a charge that failed where a retry can succeed (insufficient funds),
or failed on a card no longer the one to charge, is attempted again, under the next attempt's
key. A charge pays an invoice (the fee's, the instalment's): it is that invoice's online payment
while it lasts, so the invoice's pay link can finish what the bank wanted the student for.

1. plan: the invoice, the student's customer and card, and the attempt (or the payment already
   made for the reason, given again with no provider call);
2. ask: the provider, keyed `charge-<payment id>`; a refusal (ProviderRejected,
   ProviderUnavailable) raises with nothing stored, and a retry charges at most once;
3. store: the payment with the provider's answer: succeeded (counted against the invoice by its
   event), processing, waiting for the student (CustomerChargeRequiresAction: the pay link goes
   out), or declined (CustomerChargeDeclined, retryable or not).
"""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from justdriving.domain.charges import ChargeReason
from justdriving.domain.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    InvalidInput,
    PaymentNotAllowed,
)
from justdriving.domain.ids import PaymentId
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import Payment, PaymentMethod, PaymentPurpose, PaymentStatus
from justdriving.domain.saved_methods import PaymentCustomer, customer_id_for
from justdriving.domain.services.steps.billing import in_school
from justdriving.domain.services.steps.charges import charge_attempts, charge_payment_id
from justdriving.domain.services.steps.payment_accounts import on_account
from justdriving.ports.clock import Clock
from justdriving.ports.payments import (
    ChargeResult,
    ChargeStatus,
    GatewayRegistry,
    SavedChargeRequest,
)
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

_ROUNDS = 5
_PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
_EVENT_FOR = {
    ChargeStatus.SUCCEEDED: PaymentEventKind.SUCCEEDED,
    ChargeStatus.PROCESSING: PaymentEventKind.PROCESSING,
}


@frozen
class ChargePlan:
    """A charge to ask the provider for, not stored yet."""

    payment: Payment
    customer: PaymentCustomer
    description: str
    reason: ChargeReason

    def request(self) -> SavedChargeRequest:
        payment = self.payment
        return SavedChargeRequest(
            payment_id=payment.id,
            school_id=payment.school_id,
            provider_customer_id=self.customer.provider_customer_id,
            provider_method_id=payment.charged_method_id or "",
            amount=payment.amount,
            description=self.description,
            idempotency_key=f"charge-{payment.id}",
            metadata={"charge_reason": self.reason.key, "invoice_id": payment.invoice_id or ""},
            application_fee=payment.platform_fee,
        )


class CustomerCharges:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def charge_customer(
        self,
        school_id: str,
        invoice_id: str,
        charge_reason: ChargeReason,
        *,
        amount: Money | None = None,
        provider_method_id: str | None = None,
    ) -> Payment:
        """Charge the student's saved card (the one saved last, unless named) for
        `charge_reason`,
        against an open invoice: `amount`, or what the invoice still asks. Asked again for the
        same reason it gives the same payment and never charges twice.

        Raises PaymentNotAllowed when the invoice is not open or the student has no saved card,
        CapabilityNotSupported when the school's gateway keeps none, InvalidInput for an amount
        the invoice does not ask."""
        for round in range(_ROUNDS):
            try:
                return self._charge(
                    school_id, invoice_id, charge_reason, amount, provider_method_id
                )
            except (ConcurrencyConflict, DuplicateRecord) as error:
                if round == _ROUNDS - 1:
                    raise ConcurrencyConflict("the charge is being made elsewhere") from error
        raise AssertionError("unreachable")

    def _charge(
        self,
        school_id: str,
        invoice_id: str,
        reason: ChargeReason,
        amount: Money | None,
        method: str | None,
    ) -> Payment:
        with self._uow() as uow:
            plan = self.plan(uow, school_id, invoice_id, reason, amount, method)
            if isinstance(plan, Payment):
                return plan
            gateway = self._gateways.for_school(uow.schools.get(school_id))
        result = gateway.charge_saved(plan.request())
        with self._uow() as uow:
            self.store(uow, plan.payment, result, self._clock.now())
            uow.commit()
        return plan.payment

    def plan(
        self,
        uow: UnitOfWork,
        school_id: str,
        invoice_id: str,
        reason: ChargeReason,
        amount: Money | None,
        method: str | None,
    ) -> Payment | ChargePlan:
        """The charge to make for `reason`, or the payment already made for it (given again
        with no provider call). PaymentNotAllowed when there is no saved card to charge."""
        school = uow.schools.get(school_id)
        gateway = self._gateways.for_school(school)
        invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
        customer = uow.payment_customers.find(
            customer_id_for(school.id, invoice.student_id, gateway.name)
        )
        card = method or (customer.default_method_id if customer is not None else None)
        if customer is None or card is None:
            raise PaymentNotAllowed("the student has no saved card to charge")
        attempts = charge_attempts(uow, school.id, invoice.student_id, reason)
        last = attempts[-1] if attempts else None
        if last is not None and not _worth_again(last, card):
            return last  # charged, waiting for the student, or refused for good
        if invoice.status not in _PAYABLE:
            raise PaymentNotAllowed(f"invoice {invoice.number or invoice.id} is {invoice.status}")
        payment = Payment(
            id=PaymentId(charge_payment_id(school.id, invoice.student_id, reason, len(attempts))),
            school_id=school.id,
            student_id=invoice.student_id,
            amount=_amount(invoice, amount),
            method=PaymentMethod.ONLINE,
            purpose=PaymentPurpose.PACKAGE if invoice.package_id else PaymentPurpose.INVOICE,
            created_at=self._clock.now(),
            invoice_id=invoice.id,
            package_id=invoice.package_id,
            provider=gateway.name,
            charge_reason=reason.key,
            charged_method_id=card,
        )
        on_account(payment, school, gateway)
        kind = reason.kind.value.replace("_", " ")
        return ChargePlan(
            payment, customer, f"{school.name} {kind}, invoice {invoice.number}", reason
        )

    def store(self, uow: UnitOfWork, payment: Payment, result: ChargeResult, now: datetime) -> None:
        """The payment with the provider's answer, as its invoice's online payment (the open
        one it replaces is canceled at the provider)."""
        payment.attach(
            result.provider, result.provider_payment_id, client_secret=result.client_secret
        )
        uow.payments.add(payment)  # a concurrent charge for the same reason: DuplicateRecord
        invoice = uow.invoices.get(payment.invoice_id or "")
        if invoice.status in _PAYABLE:  # paid meanwhile: the money is an overpayment, held
            replaced = uow.payments.find(invoice.online_payment_id or "")
            if replaced is not None and replaced.is_open:
                uow.outbox.add(
                    OutboxMessage.queued(
                        payment.school_id,
                        OutboxKind.CANCEL_PAYMENT,
                        {"payment_id": replaced.id},
                        f"cancel-{replaced.id}",
                        now,
                    )
                )
            invoice.start_online_payment(payment.id)
        if result.status is ChargeStatus.REQUIRES_ACTION:
            payment.wait_for_payer(now)
        elif result.status is ChargeStatus.DECLINED:
            payment.decline_charge(result.decline_code, now)
        else:
            payment.apply(
                ProviderPaymentEvent(
                    provider=result.provider,
                    event_id=f"charge:{payment.id}",
                    kind=_EVENT_FOR[result.status],
                    occurred_at=now,
                    raw_type="charge_saved",
                    payment_id=payment.id,
                    provider_payment_id=result.provider_payment_id,
                    amount=result.amount,
                )
            )


def _worth_again(last: Payment, card: str) -> bool:
    """A failed attempt is tried again where the card may now pay (a retryable decline) or
    another card is to be charged; anything else stands."""
    if last.status is not PaymentStatus.FAILED:
        return False
    return last.retryable_decline or last.charged_method_id != card


def _amount(invoice: Invoice, amount: Money | None) -> Money:
    asked = invoice.outstanding if amount is None else amount
    if asked.currency != invoice.currency or not asked.is_positive:
        raise InvalidInput(f"a charge is a positive amount in {invoice.currency}")
    if asked > invoice.outstanding:
        raise InvalidInput(f"the invoice asks {invoice.outstanding}, not {asked}")
    return asked
