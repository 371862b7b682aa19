"""Starting an online payment (an invoice's, a deposit's): one open payment each, however
often and however concurrently it is asked, and nothing stored when the provider refuses.

Each start is planned from the records, asked of the provider, then stored:
1. plan: the open payment (given again, no provider call), or a new one whose id is derived
   from what it pays and how many payments that already had (`derived_id`), so that
   starts racing each other plan the same payment and send the provider the same
   idempotency key: the provider makes one charge;
2. ask: the provider, keyed `start-<payment id>` (the payer is waiting); a refusal raises
   with nothing stored;
3. store: the payment, attached, with what it pays for, in one unit of work; the loser of
   a race finds the winner's payment on its next round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from attrs import frozen

from justdriving.domain.deposits import Deposit
from justdriving.domain.errors import ConcurrencyConflict, DuplicateRecord, PaymentNotAllowed
from justdriving.domain.ids import DepositId, PaymentId, derived_id
from justdriving.domain.payments import (
    Payment,
    PaymentMethod,
    PaymentPurpose,
)
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.services.steps.billing import in_school
from justdriving.domain.services.steps.checkouts import (
    cancel_at_provider,
    check_deposit_still_wanted,
    deposit_capture,
    last_payment,
    payable,
    session_of,
    still_usable,
)
from justdriving.domain.services.steps.payment_accounts import on_account
from justdriving.ports.clock import Clock
from justdriving.ports.payments import GatewayRegistry, PaymentRequest, PaymentSession
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
_ROUNDS = 5


@frozen
class StartedPayment:
    payment: Payment
    session: PaymentSession


@frozen
class _Plan:
    """A payment to ask the provider for, not stored yet."""

    payment: Payment
    description: str
    customer_email: EmailAddress | None
    customer_phone: PhoneNumber | None = None
    offer_mobilepay: bool = False


class PaymentStarts:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def start_invoice_payment(
        self, school_id: str, invoice_id: str, *, return_url: str | None = None
    ) -> StartedPayment:
        """Start paying what is outstanding on an open invoice; the front end finishes it.

        Asked again (a reload, a double click, a restart, several at once) it gives the open
        payment's checkout again, never a second charge. When the invoice now asks for another
        amount (part was paid meanwhile) or the checkout lapsed, the open payment is canceled
        at the provider and a new one started."""
        return _in_rounds(
            lambda: self._start(
                lambda uow: self._plan_for_invoice(uow, school_id, invoice_id),
                lambda uow, plan: self._store_for_invoice(uow, plan),
                return_url,
            )
        )

    def start_deposit(
        self, school_id: str, booking_id: str, *, return_url: str | None = None
    ) -> StartedPayment:
        """Take the booking type's deposit: a card hold when the lesson is near, else a charge.

        Asked again while the deposit's payment is open, it gives that payment's checkout."""
        return _in_rounds(
            lambda: self._start(
                lambda uow: self._plan_for_deposit(uow, school_id, booking_id),
                lambda uow, plan: self._store_for_deposit(uow, plan),
                return_url,
            )
        )

    def _start(
        self,
        plan_in: Callable[[UnitOfWork], Payment | _Plan],
        store: Callable[[UnitOfWork, _Plan], None],
        return_url: str | None,
    ) -> StartedPayment:
        with self._uow() as uow:
            plan = plan_in(uow)
            if isinstance(plan, Payment):
                return StartedPayment(plan, session_of(plan))
            school = uow.schools.get(plan.payment.school_id)
            gateway = self._gateways.for_school(school)
        payment = plan.payment
        session = gateway.start(
            PaymentRequest(
                payment_id=payment.id,
                school_id=payment.school_id,
                amount=payment.amount,
                description=plan.description,
                idempotency_key=f"start-{payment.id}",
                capture_mode=payment.capture_mode,
                customer_email=plan.customer_email,
                return_url=return_url,
                customer_phone=plan.customer_phone,
                offer_mobilepay=plan.offer_mobilepay,
                application_fee=payment.platform_fee,
            )
        )
        payment.attach(
            session.provider,
            session.provider_payment_id,
            client_secret=session.client_secret,
            redirect_url=session.redirect_url,
        )
        with self._uow() as uow:
            store(uow, plan)
            uow.commit()
        return StartedPayment(payment, session)

    def _plan_for_invoice(
        self, uow: UnitOfWork, school_id: str, invoice_id: str
    ) -> Payment | _Plan:
        now = self._clock.now()
        school = uow.schools.get(school_id)
        gateway = self._gateways.for_school(school)
        invoice = payable(in_school(uow.invoices.get(invoice_id), school.id, "invoice"))
        current = last_payment(uow, invoice)
        if current is not None and still_usable(current, invoice.outstanding, gateway.name, now):
            return current
        payment = Payment(
            id=PaymentId(derived_id("pay", invoice.id, str(invoice.online_payments))),
            school_id=school.id,
            student_id=invoice.student_id,
            amount=invoice.outstanding,
            method=PaymentMethod.ONLINE,
            purpose=PaymentPurpose.INVOICE,
            created_at=now,
            invoice_id=invoice.id,
            package_id=invoice.package_id,
            provider=gateway.name,
        )
        on_account(payment, school, gateway)
        student = uow.students.get(invoice.student_id)
        return _Plan(
            payment,
            f"{school.name} invoice {invoice.number}",
            student.email,
            student.phone,
            school.settings.offer_mobilepay,
        )

    def _store_for_invoice(self, uow: UnitOfWork, plan: _Plan) -> None:
        """Store the started payment as the invoice's open one; the open one it replaces is
        canceled at the provider. A start that lost a race conflicts (next round)."""
        payment = plan.payment
        invoice = payable(uow.invoices.get(payment.invoice_id or ""))
        if PaymentId(derived_id("pay", invoice.id, str(invoice.online_payments))) != payment.id:
            raise ConcurrencyConflict("another payment was started for the invoice meanwhile")
        replaced = last_payment(uow, invoice)
        if replaced is not None and replaced.is_open:
            cancel_at_provider(uow, replaced, self._clock.now())
        invoice.start_online_payment(payment.id)
        uow.payments.add(payment)

    def _plan_for_deposit(
        self, uow: UnitOfWork, school_id: str, booking_id: str
    ) -> Payment | _Plan:
        now = self._clock.now()
        school = uow.schools.get(school_id)
        gateway = self._gateways.for_school(school)
        booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
        deposit_amount = uow.booking_types.get(booking.booking_type_id).deposit
        if deposit_amount is None:
            raise PaymentNotAllowed("this kind of lesson takes no deposit")
        deposit = uow.deposits.for_booking(booking.id)
        if deposit is not None:
            current = uow.payments.get(deposit.payment_id)
            if current.is_open and not booking.status.is_final:
                return current
        if booking.status.is_final or deposit is not None:
            raise PaymentNotAllowed("the booking already has a deposit or has ended")
        payment = Payment(
            id=PaymentId(derived_id("pay", booking.id, "deposit")),
            school_id=school.id,
            student_id=booking.student_ids[0],
            amount=deposit_amount,
            method=PaymentMethod.ONLINE,
            purpose=PaymentPurpose.DEPOSIT,
            created_at=now,
            booking_id=booking.id,
            capture_mode=deposit_capture(uow, school, gateway.name, booking, now),
            provider=gateway.name,
        )
        on_account(payment, school, gateway)
        student = uow.students.get(payment.student_id)
        return _Plan(
            payment,
            f"{school.name} deposit",
            student.email,
            student.phone,
            school.settings.offer_mobilepay,
        )

    def _store_for_deposit(self, uow: UnitOfWork, plan: _Plan) -> None:
        payment = plan.payment
        booking = uow.bookings.get(payment.booking_id or "")
        check_deposit_still_wanted(booking, uow.deposits.for_booking(booking.id))
        uow.payments.add(payment)
        uow.deposits.add(
            Deposit(
                id=DepositId(derived_id("dep", booking.id)),
                school_id=payment.school_id,
                booking_id=booking.id,
                student_id=payment.student_id,
                payment_id=payment.id,
                amount=payment.amount,
                capture_mode=payment.capture_mode,
            )
        )


def _in_rounds(start: Callable[[], T]) -> T:
    """Start again on fresh records when a concurrent start got there first: the next round
    finds that start's payment and gives it."""
    for round in range(_ROUNDS):
        try:
            return start()
        except (ConcurrencyConflict, DuplicateRecord) as error:
            if round == _ROUNDS - 1:
                raise ConcurrencyConflict("the payment is being started elsewhere") from error
    raise AssertionError("unreachable")
