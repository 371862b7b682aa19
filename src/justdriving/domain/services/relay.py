"""The relay: performs due outbox work through the ports, at least once, with backoff.

Every attempt of one outbox row uses the row's stable idempotency key. Transient failures are
retried with full-jitter exponential backoff (honouring Retry-After); permanent ones are not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import define, field

from justdriving.domain.errors import (
    InvalidTransition,
    JustDrivingError,
    ProviderError,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import Channel, EmailMessage, MessageStatus, SmsMessage
from justdriving.domain.outbox import OutboxKind, OutboxMessage, backoff
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import MessageType
from justdriving.domain.services.refunds import refund_succeeded
from justdriving.ports.clock import Clock
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.payments import GatewayRegistry, RefundRequest
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


@define
class RelayReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(factory=list)


class Relay:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        sms: SmsSender,
        email: EmailSender,
        renderer: TemplateRenderer,
        gateways: GatewayRegistry,
        max_attempts: int = 8,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._uow, self._clock = uow, clock
        self._sms, self._email, self._renderer, self._gateways = sms, email, renderer, gateways
        self._max_attempts = max_attempts
        self._jitter = jitter
        self._handlers: dict[OutboxKind, Callable[[UnitOfWork, OutboxMessage, datetime], None]] = {
            OutboxKind.SEND_SMS: self._send_sms,
            OutboxKind.SEND_EMAIL: self._send_email,
            OutboxKind.CAPTURE_PAYMENT: self._capture,
            OutboxKind.CANCEL_PAYMENT: self._cancel,
            OutboxKind.REFUND_PAYMENT: self._refund,
        }

    def run_once(self, limit: int = 100) -> RelayReport:
        """Work through the rows due now, each in its own unit of work."""
        report = RelayReport()
        with self._uow() as uow:
            due = [m.id for m in uow.outbox.due(self._clock.now(), limit)]
        for outbox_id in due:
            self._relay(outbox_id, report)
        return report

    def _relay(self, outbox_id: str, report: RelayReport) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            row = uow.outbox.get(outbox_id)
            if not row.due(now):
                return
            try:
                self._handlers[row.kind](uow, row, now)
            except ProviderUnavailable as error:
                self._retry_or_bury(uow, row, error, now, report)
            except JustDrivingError as error:  # permanent: declined, rejected, misconfigured
                self._bury(uow, row, error, now, report)
            else:
                row.succeeded(now)
                report.sent += 1
            uow.commit()

    def _retry_or_bury(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        error: ProviderUnavailable,
        now: datetime,
        report: RelayReport,
    ) -> None:
        if row.attempts + 1 >= self._max_attempts:
            self._bury(uow, row, error, now, report)
            return
        delay = backoff(row.attempts + 1).total_seconds() * self._jitter()
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        row.retry_later(_describe(error), now + timedelta(seconds=delay))
        report.retried += 1

    def _bury(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        error: Exception,
        now: datetime,
        report: RelayReport,
    ) -> None:
        row.give_up(_describe(error))
        report.dead += 1
        report.errors.append(f"{row.kind} {row.id}: {_describe(error)}")
        if row.kind in (OutboxKind.SEND_SMS, OutboxKind.SEND_EMAIL):
            message = uow.messages.get(row.payload["message_id"])
            if isinstance(error, RecipientSuppressed):
                message.suppress(_describe(error), now)
            else:
                message.mark_failed(_describe(error), now)

    def _send_sms(self, uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
        message = uow.messages.get(row.payload["message_id"])
        if message.status is not MessageStatus.QUEUED:
            return  # sent before the last commit was lost, or suppressed: nothing to do
        school = uow.schools.get(message.school_id)
        assert isinstance(message.recipient, PhoneNumber)
        rendered = self._renderer.render(
            message.type, Channel.SMS, message.language, message.context
        )
        receipt = self._sms.send(
            message.recipient,
            SmsMessage(
                body=rendered.text, reference=message.id, sender_id=school.settings.sender_id
            ),
        )
        message.mark_sent(receipt, now)

    def _send_email(self, uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
        message = uow.messages.get(row.payload["message_id"])
        if message.status is not MessageStatus.QUEUED:
            return
        assert isinstance(message.recipient, EmailAddress)
        rendered = self._renderer.render(
            message.type, Channel.EMAIL, message.language, message.context
        )
        receipt = self._email.send(
            EmailMessage(
                to=message.recipient,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                reference=message.id,
                bulk=message.type is MessageType.ANNOUNCEMENT,
            )
        )
        message.mark_sent(receipt, now)

    def _capture(self, uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
        payment = uow.payments.get(row.payload["payment_id"])
        gateway = self._gateways.by_name(_provider(payment.provider))
        gateway.capture(_ref(payment.provider_payment_id), payment.amount, row.idempotency_key)

    def _cancel(self, uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
        payment = uow.payments.get(row.payload["payment_id"])
        gateway = self._gateways.by_name(_provider(payment.provider))
        gateway.cancel(_ref(payment.provider_payment_id), row.idempotency_key)

    def _refund(self, uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
        refund = uow.refunds.get(row.payload["refund_id"])
        if refund.status is not RefundStatus.PENDING or refund.provider_refund_id is not None:
            return  # the provider has it already; its webhook finishes the refund
        payment = uow.payments.get(refund.payment_id)
        gateway = self._gateways.by_name(_provider(payment.provider))
        result = gateway.refund(
            RefundRequest(
                refund_id=refund.id,
                provider_payment_id=_ref(payment.provider_payment_id),
                amount=refund.amount,
                reason=refund.reason,
                idempotency_key=row.idempotency_key,
            )
        )
        refund.provider_refund_id = result.provider_refund_id
        if result.status is RefundStatus.SUCCEEDED:
            refund_succeeded(uow, uow.schools.get(refund.school_id), refund, payment, now)
        elif result.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
            refund.fail(payment, now, "refused by the provider")


def _provider(name: str | None) -> str:
    if name is None:
        raise InvalidTransition("payment", "not started online", "relay")
    return name


def _ref(provider_payment_id: str | None) -> str:
    if provider_payment_id is None:
        raise InvalidTransition("payment", "not started online", "relay")
    return provider_payment_id


def _describe(error: Exception) -> str:
    """Error text for the outbox row: our own message, never a provider's raw response body."""
    if isinstance(error, ProviderError):
        code = f" [{error.provider_code}]" if error.provider_code else ""
        return f"{type(error).__name__}{code}: {error}"[:500]
    return f"{type(error).__name__}: {error}"[:500]
