"""The relay: outbox rows done after commit, retried with the same key, buried when hopeless."""

from __future__ import annotations

import threading
from datetime import timedelta

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.errors import ProviderRejected, ProviderUnavailable
from justdriving.domain.messages import Channel, MessageStatus, SendReceipt, SmsMessage
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.people import PhoneNumber
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, MessageType, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.relay.engine import RelayPolicy

from .support import World, build_world, deliver, dkk, messages, outbox, record


def _booked(app: Application, world: World, clock: FrozenClock) -> None:
    """A booking: one confirmation SMS and one confirmation email in the outbox."""
    world.book(app, clock.now() + timedelta(days=2))


def _sms_row(store: MemoryStore) -> OutboxMessage:
    [row] = outbox(store, OutboxKind.SEND_SMS)
    return row


class TestRelaySendsMessages:
    def test_a_message_is_sent_once_however_often_the_relay_runs(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        sms: FakeSmsSender,
        email: FakeEmailSender,
    ) -> None:
        _booked(app, world, clock)

        reports = [app.relay_outbox() for _ in range(3)]

        assert [r.sent for r in reports] == [2, 0, 0]
        assert len(sms.sent) == len(email.sent) == 1

    def test_an_unavailable_provider_is_tried_again_later_with_the_same_key(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _booked(app, world, clock)
        sms.fail_next(ProviderUnavailable("fake", "503 service unavailable"))

        report = app.relay_outbox()

        assert (report.sent, report.retried, report.dead) == (1, 1, 0)  # the email went out
        row = _sms_row(store)
        assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
        assert "ProviderUnavailable" in (row.last_error or "")
        assert row.next_attempt_at is not None
        assert row.next_attempt_at <= clock.now() + timedelta(seconds=30)
        assert sms.sent == []
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.QUEUED

        clock.advance(timedelta(minutes=1))
        assert app.relay_outbox().sent == 1

        again = _sms_row(store)
        assert (again.status, again.idempotency_key) == (OutboxStatus.SENT, row.idempotency_key)
        [(_, sent, receipt)] = sms.sent
        assert sent.reference == row.idempotency_key == message.id
        stored = record(store, "messages", message.id)
        assert (stored.status, stored.provider_message_id) == (
            MessageStatus.SENT,
            receipt.provider_message_id,
        )

    def test_a_retry_after_from_the_provider_is_honoured(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _booked(app, world, clock)
        sms.fail_next(ProviderUnavailable("fake", "429 too many requests", retry_after=120))
        app.relay_outbox()

        clock.advance(timedelta(seconds=119))
        app.relay_outbox()
        assert sms.sent == []

        clock.advance(timedelta(seconds=1))
        app.relay_outbox()
        assert len(sms.sent) == 1

    def test_an_sms_that_may_have_gone_out_is_retried_and_logged_as_a_possible_duplicate(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        # An SMS provider takes no idempotency key: after a timeout we cannot know whether
        # the text went out. Retrying is the only way not to lose it; the log says so.
        _booked(app, world, clock)
        sms.fail_next(ProviderUnavailable("fake", "read timeout", possibly_done=True))
        app.relay_outbox()

        for _ in range(3):
            clock.advance(timedelta(hours=1))
            app.relay_outbox()

        assert len(sms.sent) == 2  # the fake did send before timing out
        [message] = [m for m in store.records("messages") if m.channel is Channel.SMS]
        assert message.status is MessageStatus.SENT
        assert message.provider_error is not None
        assert "may have gone out twice" in message.provider_error

    def test_an_opted_out_recipient_is_suppressed_and_never_retried(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
        email: FakeEmailSender,
    ) -> None:
        sms.opt_out(PhoneNumber("+4520123456"))
        _booked(app, world, clock)

        report = app.relay_outbox()

        assert (report.sent, report.dead) == (1, 1)
        row = _sms_row(store)
        assert row.status is OutboxStatus.DEAD
        assert "RecipientSuppressed" in (row.last_error or "")
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.SUPPRESSED
        assert len(email.sent) == 1

        clock.advance(timedelta(days=1))
        assert app.relay_outbox().sent == 0
        assert sms.sent == []
        assert _sms_row(store).attempts == 1

    def test_a_rejected_message_is_marked_failed_and_not_retried(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _booked(app, world, clock)
        sms.fail_next(ProviderRejected("fake", "invalid destination", provider_code="21211"))

        report = app.relay_outbox()

        assert report.dead == 1
        row = _sms_row(store)
        assert row.status is OutboxStatus.DEAD
        assert "21211" in (row.last_error or "")
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.FAILED
        assert "invalid destination" in (message.provider_error or "")

        clock.advance(timedelta(days=1))
        app.relay_outbox()
        assert sms.sent == []

    def test_the_relay_gives_up_after_eight_attempts(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _booked(app, world, clock)
        for _ in range(10):
            sms.fail_next(ProviderUnavailable("fake", "down"))

        for _ in range(10):
            app.relay_outbox()
            clock.advance(timedelta(hours=7))

        row = _sms_row(store)
        assert (row.status, row.attempts) == (OutboxStatus.DEAD, 8)
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.FAILED
        assert sms.sent == []


class TestRelayTakesOverFromADeadWorker:
    def test_a_row_whose_lease_ran_out_is_sent_by_another_worker_and_noted_as_maybe_twice(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _booked(app, world, clock)
        dead = app.relay.claim(10)  # a worker claims both rows, then dies before recording
        assert len(dead) == 2
        assert app.relay_outbox().claimed == 0  # still leased: nobody else may take them

        clock.advance(timedelta(minutes=3))  # past the 2 min lease
        report = app.relay_outbox()

        assert (report.claimed, report.sent) == (2, 2)
        assert _sms_row(store).status is OutboxStatus.SENT
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.SENT
        assert "may have gone out twice" in (message.provider_error or "")
        assert "taken over" in (message.provider_error or "")

    def test_a_row_claimed_in_the_ordinary_way_is_not_noted(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        _booked(app, world, clock)

        app.relay_outbox()

        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.provider_error is None


class TestRelayCallsTheGateway:
    def test_a_refund_is_retried_with_its_idempotency_key_and_made_once(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        draft = app.draft_invoice(
            world.school.id,
            world.student.id,
            [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))],
        )
        invoice = app.issue_invoice(world.school.id, draft.id)
        started = app.start_invoice_payment(world.school.id, invoice.id)
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        refund = app.refund(world.school.id, started.payment.id, amount=dkk("500.00"))
        # The provider refunds, but its answer is lost on the way back.
        gateway.fail_next(ProviderUnavailable("fake", "read timeout", possibly_done=True))

        app.relay_outbox()
        assert record(store, "refunds", refund.id).status is RefundStatus.PENDING
        clock.advance(timedelta(minutes=5))
        app.relay_outbox()

        assert gateway.calls.count(("refund", refund.id)) == 2
        assert len(gateway.refunds) == 1
        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED
        assert record(store, "payments", started.payment.id).refunded == dkk("500.00")

    def test_manual_payments_never_reach_the_gateway(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        payment = app.record_manual_payment(
            world.school.id, world.student.id, amount=dkk("300.00"), method=PaymentMethod.CASH
        )
        app.refund(world.school.id, payment.id)

        app.relay_outbox()

        assert gateway.calls == []


class _MeetingSmsSender(FakeSmsSender):
    """Holds each send until `width` sends are in flight together (or 10 s have passed, which
    fails the test: the relay did not send them at once)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.meeting = threading.Barrier(width, timeout=10)
        self._lock = threading.Lock()

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        self.meeting.wait()
        with self._lock:
            return super().send(to, message)


class TestRelayInFlight:
    def test_a_relay_works_as_many_rows_at_once_as_its_in_flight_limit(
        self, clock: FrozenClock, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        """Four students are told of an announcement by SMS: with RELAY_IN_FLIGHT=4 the four
        sends are in flight together, each is sent once, and the report counts each row."""
        sms = _MeetingSmsSender(4)
        app = Application(
            uow=MemoryUnitOfWorkFactory(store),
            clock=clock,
            gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway(clock=clock)}),
            sms=sms,
            email=email,
            renderer=MemoryTemplateRenderer(),
            relay_policy=RelayPolicy(in_flight=4),
        )
        world = build_world(app, settings=SchoolSettings(quiet_hours=None))
        for n in range(3):
            app.add_student(world.school.id, f"Elev {n}", phone=f"+45 2012{n:04d}")
        app.announce(world.school.id, "Lukket fredag", channels=frozenset({Channel.SMS}))

        report = app.relay_outbox()

        assert not sms.meeting.broken
        assert (report.claimed, report.sent, report.retried, report.dead) == (4, 4, 0, 0)
        assert sorted(str(to) for to, _, _ in sms.sent) == [
            "+4520120000",
            "+4520120001",
            "+4520120002",
            "+4520123456",
        ]
        assert {row.status for row in outbox(store, OutboxKind.SEND_SMS)} == {OutboxStatus.SENT}
        assert app.relay_outbox().claimed == 0
