"""What each kind of outbox row asks of a provider: prepared from the database, performed
outside any transaction, recorded afterwards in a new one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidTransition,
    PaymentNotAllowed,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import (
    OutboundMessage,
)
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import Payment
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.services.charges import CustomerCharges
from justdriving.domain.services.plans import still_charged
from justdriving.ports.host_events import HostEventSender
from justdriving.ports.payments import (
    ChargeResult,
    GatewayRegistry,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from justdriving.ports.persistence import UnitOfWork
from justdriving.relay.books import BooksPushes
from justdriving.relay.host_events import delivery_job
from justdriving.relay.messages import Job, MessageJobs, Prepared


class Preparers:
    def __init__(
        self,
        *,
        messages: MessageJobs,
        gateways: GatewayRegistry,
        books: BooksPushes,
        charges: CustomerCharges,
        host_events: HostEventSender | None = None,
    ) -> None:
        self._messages, self._gateways, self._charges = messages, gateways, charges
        self._host_events = host_events
        self._by_kind: dict[OutboxKind, Callable[[UnitOfWork, OutboxMessage], Prepared]] = {
            OutboxKind.SEND_SMS: self._sms_job,
            OutboxKind.SEND_EMAIL: self._email_job,
            OutboxKind.COMPLETE_PAYMENT: self._complete_job,
            OutboxKind.CAPTURE_PAYMENT: self._capture_job,
            OutboxKind.CANCEL_PAYMENT: self._cancel_job,
            OutboxKind.REFUND_PAYMENT: self._refund_job,
            OutboxKind.DELIVER_EVENT: self._event_job,
            OutboxKind.PUSH_ACCOUNTING: books.prepare,
            OutboxKind.CHARGE_CUSTOMER: self._charge_job,
        }

    def __call__(self, uow: UnitOfWork, row: OutboxMessage) -> Prepared:
        """The call to make; Deferred when not now; None when there is nothing left to do."""
        return self._by_kind[row.kind](uow, row)

    def _gateway_of(self, payment: Payment) -> PaymentGateway:
        """The payment's gateway, on the connected account it was made on (if any)."""
        _required(payment.provider)
        return self._gateways.for_payment(payment)

    def _sms_job(self, uow: UnitOfWork, row: OutboxMessage) -> Prepared:
        return self._messages.sms(uow, row.payload["message_id"])

    def _email_job(self, uow: UnitOfWork, row: OutboxMessage) -> Prepared:
        return self._messages.email(uow, row.payload["message_id"])

    def _event_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job:
        if self._host_events is None:
            raise ConfigurationError(
                "an event for the host is queued but no endpoint is configured",
                ["HOST_WEBHOOK_URL: set it (with HOST_WEBHOOK_SECRET), then retry the row"],
            )
        return delivery_job(self._host_events, row)

    def _capture_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job:
        payment = uow.payments.get(row.payload["payment_id"])
        gateway = self._gateway_of(payment)
        ref, amount, key = (
            _required(payment.provider_payment_id),
            payment.amount,
            row.idempotency_key,
        )
        return Job(f"payments:{gateway.name}", lambda: gateway.capture(ref, amount, key), _nothing)

    def _complete_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job:
        payment = uow.payments.get(row.payload["payment_id"])
        gateway = self._gateway_of(payment)
        ref, key = _required(payment.provider_payment_id), row.idempotency_key
        return Job(f"payments:{gateway.name}", lambda: gateway.complete(ref, key), _nothing)

    def _cancel_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job:
        payment = uow.payments.get(row.payload["payment_id"])
        gateway = self._gateway_of(payment)
        ref, key = _required(payment.provider_payment_id), row.idempotency_key
        return Job(f"payments:{gateway.name}", lambda: gateway.cancel(ref, key), _nothing)

    def _charge_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job | None:
        """A fee's invoice charged to the saved card, as `charge_customer` charges it (the same
        payment and key: a charge asked for directly as well is made once). Nothing to do when
        the student has no saved card, the invoice is paid already, or the charge was made."""
        invoice = uow.invoices.get(row.payload["invoice_id"])
        if not still_charged(uow, invoice):
            return None  # its plan was cancelled: the invoice is owed by its pay link
        reason = ChargeReason(ChargeKind(row.payload["kind"]), row.payload["reference"])
        try:
            plan = self._charges.plan(uow, invoice.school_id, invoice.id, reason, None, None)
        except PaymentNotAllowed:
            return None  # left as invoiced, to pay by its link
        if isinstance(plan, Payment):
            return None
        gateway = self._gateway_of(plan.payment)
        request = plan.request()

        def record(uow: UnitOfWork, result: ChargeResult, now: datetime) -> None:
            # A copy each time: a recording that failed (its round's transaction rolled back)
            # is done again, and must start from the payment as prepared, not as the failed
            # try left it (applied already, its events taken: the invoice never paid).
            self._charges.store(uow, copy.deepcopy(plan.payment), result, now)

        return Job(f"payments:{gateway.name}", lambda: gateway.charge_saved(request), record)

    def _refund_job(self, uow: UnitOfWork, row: OutboxMessage) -> Job | None:
        refund = uow.refunds.get(row.payload["refund_id"])
        if refund.status is not RefundStatus.PENDING or refund.provider_refund_id is not None:
            return None  # the provider has it already; its webhook finishes the refund
        payment = uow.payments.get(refund.payment_id)
        gateway = self._gateway_of(payment)
        request = RefundRequest(
            refund_id=refund.id,
            provider_payment_id=_required(payment.provider_payment_id),
            amount=refund.amount,
            reason=refund.reason,
            idempotency_key=row.idempotency_key,
            payment_id=payment.id,
        )
        return Job(
            f"payments:{gateway.name}", lambda: gateway.refund(request), _refund_recorder(refund.id)
        )


def _refund_recorder(refund_id: str) -> Callable[[UnitOfWork, Any, datetime], None]:
    def record(uow: UnitOfWork, result: RefundResult, now: datetime) -> None:
        refund = uow.refunds.get(refund_id)
        payment = uow.payments.get(refund.payment_id)
        refund.provider_refund_id = refund.provider_refund_id or result.provider_refund_id
        if result.status is RefundStatus.SUCCEEDED:
            refund.succeed(payment, now)  # its RefundSucceeded books it (refund_booked)
        elif result.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
            refund.fail(payment, now, "refused by the provider")

    return record


def _nothing(uow: UnitOfWork, result: Any, now: datetime) -> None:
    """Captures and cancellations are confirmed by the provider's webhook, not here."""


def _required(value: str | None) -> str:
    if value is None:
        raise InvalidTransition("payment", "not started with a provider", "relay")
    return value


class MessageLog:
    """What the relay learns about a message, written on the message's own record."""

    @staticmethod
    def gave_up(uow: UnitOfWork, row: OutboxMessage, error: Exception, now: datetime) -> None:
        message = _message_of(uow, row)
        if message is None:
            return
        reason = f"{type(error).__name__}: {error}"[:500]
        if isinstance(error, RecipientSuppressed):
            message.suppress(reason, now)
        else:
            message.mark_failed(reason, now)

    @staticmethod
    def ambiguous(uow: UnitOfWork, row: OutboxMessage, error: Exception) -> None:
        """The provider may have sent it before failing; the retry may make a duplicate."""
        message = _message_of(uow, row)
        if message is not None:
            message.note_possible_duplicate(f"{type(error).__name__}: {error}"[:400])

    @staticmethod
    def taken_over(uow: UnitOfWork, row: OutboxMessage) -> None:
        """A worker died or stalled holding the row: it may have sent it before it stopped;
        sending it now may make a duplicate."""
        message = _message_of(uow, row)
        if message is not None:
            message.note_possible_duplicate((row.last_error or "")[:400])


class PaymentLog:
    """What the relay learns about a payment call, written on the records it concerns."""

    @staticmethod
    def gave_up(uow: UnitOfWork, row: OutboxMessage, error: Exception, now: datetime) -> None:
        """A refund the provider refused (or that can never be asked for) ends failed and
        frees its amount, as the provider's refund.failed webhook would. A row given up after
        failures that may have reached the provider keeps its refund pending: the provider's
        webhook or an operator's retry settles it."""
        if row.kind is not OutboxKind.REFUND_PAYMENT or isinstance(error, ProviderUnavailable):
            return
        refund = uow.refunds.get(row.payload["refund_id"])
        payment = uow.payments.get(refund.payment_id)
        code = getattr(error, "provider_code", None) or getattr(error, "code", None)
        refund.fail(payment, now, f"refused by the provider: {code or type(error).__name__}")


def _message_of(uow: UnitOfWork, row: OutboxMessage) -> OutboundMessage | None:
    if row.kind not in (OutboxKind.SEND_SMS, OutboxKind.SEND_EMAIL):
        return None
    return uow.messages.get(row.payload["message_id"])
