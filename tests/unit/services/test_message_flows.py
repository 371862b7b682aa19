"""Delivery receipts, opt-out replies, announcements and rescheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.delivery import DeliveryReceipt, InboundSms, Keyword
from justdriving.domain.errors import InvalidInput, TeacherDoubleBooked
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import MessageType
from justdriving.domain.services.announcements import Audience

from .support import World, hours_from_now, messages

ANNA = PhoneNumber("+4520123456")


def _sent_sms(app: Application, world: World, clock: FrozenClock, sms: FakeSmsSender) -> str:
    world.book(app, hours_from_now(clock, 30))
    app.relay_outbox()
    return sms.sent[-1][2].provider_message_id


class TestDeliveryReceipts:
    def test_a_delivered_receipt_marks_the_message_delivered_once(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        provider_id = _sent_sms(app, world, clock, sms)
        receipt = DeliveryReceipt(
            provider="fake",
            event_id=f"{provider_id}:delivered",
            provider_message_id=provider_id,
            status=MessageStatus.DELIVERED,
            occurred_at=clock.now(),
        )

        first = app.apply_message_receipts(Channel.SMS, [receipt])
        again = app.apply_message_receipts(Channel.SMS, [receipt])

        assert (first.applied, again.duplicates) == (1, 1)
        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.DELIVERED

    def test_a_late_sent_receipt_never_hides_delivered(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        provider_id = _sent_sms(app, world, clock, sms)
        for status in (MessageStatus.DELIVERED, MessageStatus.SENT):  # in this order
            app.apply_message_receipts(
                Channel.SMS,
                [
                    DeliveryReceipt(
                        "fake", f"{provider_id}:{status}", provider_id, status, clock.now()
                    )
                ],
            )

        [message] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert message.status is MessageStatus.DELIVERED

    def test_a_receipt_saying_the_number_opted_out_suppresses_it_for_later_messages(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        provider_id = _sent_sms(app, world, clock, sms)
        failed = DeliveryReceipt(
            "fake",
            f"{provider_id}:failed",
            provider_id,
            MessageStatus.FAILED,
            clock.now(),
            error_code="21610",
            suppress=True,
        )
        app.apply_message_receipts(Channel.SMS, [failed])
        sent_before = len(sms.sent)

        world.book(app, hours_from_now(clock, 50))
        app.relay_outbox()

        assert len(sms.sent) == sent_before
        [failed_message, *_] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        assert failed_message.provider_error == "fake error 21610"


class TestInboundSms:
    def _reply(self, clock: FrozenClock, body: str, event: str) -> InboundSms:
        return InboundSms("fake", event, ANNA, "+4570000000", body, clock.now())

    def test_stop_suppresses_and_start_lifts_it(
        self, app: Application, world: World, clock: FrozenClock, sms: FakeSmsSender
    ) -> None:
        _sent_sms(app, world, clock, sms)
        assert app.receive_inbound_sms(self._reply(clock, " stop ", "in_1")) is Keyword.STOP
        sent = len(sms.sent)
        world.book(app, hours_from_now(clock, 50))
        app.relay_outbox()
        assert len(sms.sent) == sent

        app.receive_inbound_sms(self._reply(clock, "START", "in_2"))
        world.book(app, hours_from_now(clock, 70))
        app.relay_outbox()
        assert len(sms.sent) == sent + 1

    def test_help_is_answered_with_the_schools_contact(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        _sent_sms(app, world, clock, sms)

        app.receive_inbound_sms(self._reply(clock, "help", "in_3"))
        app.receive_inbound_sms(self._reply(clock, "help", "in_3"))  # the same delivery again

        assert len(messages(store, MessageType.HELP_REPLY, Channel.SMS)) == 1


class TestAnnouncements:
    def test_an_announcement_reaches_only_students_with_upcoming_lessons(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world.add_student(app, "Bo Berg")
        world.book(app, hours_from_now(clock, 30))

        queued = app.announce(
            world.school.id, "Closed Friday.", audience=Audience.WITH_UPCOMING_LESSONS
        )

        assert queued == 2  # Anna's SMS and email; Bo has no lesson booked
        assert {str(m.recipient) for m in messages(store, MessageType.ANNOUNCEMENT)} == {
            "+4520123456",
            "anna@example.dk",
        }

    def test_an_empty_announcement_is_refused(self, app: Application, world: World) -> None:
        with pytest.raises(InvalidInput):
            app.announce(world.school.id, "  ")


class TestRescheduling:
    def test_a_moved_lesson_tells_the_student_and_is_reminded_anew(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, hours_from_now(clock, 30))
        app.send_reminders()

        moved = app.reschedule_booking(
            world.school.id, booking.id, start=hours_from_now(clock, 100)
        )

        assert moved.reminded == ()
        assert len(messages(store, MessageType.BOOKING_CHANGE)) == 2

    def test_a_lesson_cannot_be_moved_onto_another_of_the_teachers_lessons(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        booking = world.book(app, hours_from_now(clock, 30))
        other = world.book(app, hours_from_now(clock, 40))

        with pytest.raises(TeacherDoubleBooked):
            app.reschedule_booking(world.school.id, booking.id, start=other.slot.start)
        assert timedelta(0) < other.slot.start - booking.slot.start


class TestInvoiceEmail:
    def test_the_invoice_email_carries_the_invoice_as_a_pdf_in_the_schools_branding(
        self, store: MemoryStore, clock: FrozenClock
    ) -> None:
        from justdriving.adapters.documents import FpdfInvoicePdf
        from justdriving.adapters.memory import (
            FakeEmailSender,
            FakePaymentGateway,
            MemoryUnitOfWorkFactory,
        )
        from justdriving.adapters.payments.registry import MemoryGatewayRegistry
        from justdriving.adapters.templates import JinjaTemplateRenderer
        from justdriving.domain.schools import InvoiceService
        from justdriving.domain.services.invoicing import LineItem

        from .support import build_world, dkk

        email = FakeEmailSender()
        app = Application(
            uow=MemoryUnitOfWorkFactory(store),
            clock=clock,
            gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake", clock=clock)}),
            sms=FakeSmsSender(),
            email=email,
            renderer=JinjaTemplateRenderer(),
            invoice_pdf=FpdfInvoicePdf(),
        )
        world = build_world(app)
        draft = app.draft_invoice(
            world.school.id,
            world.student.id,
            [LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("300.00"))],
        )
        invoice = app.issue_invoice(world.school.id, draft.id)

        app.relay_outbox()

        [(_, message, _)] = email.sent
        [attachment] = message.attachments
        assert attachment.content_type == "application/pdf"
        assert attachment.filename == f"invoice-{invoice.number}.pdf"
        assert attachment.content.startswith(b"%PDF")
        assert message.html is not None
        assert world.school.name in message.html
        assert "300,00 kr." in message.text


class TestSmsLength:
    def test_each_sms_records_its_parts_and_an_overlong_one_is_not_sent(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        world.book(app, hours_from_now(clock, 30))
        app.announce(world.school.id, "Lukket på fredag. " * 40, channels=frozenset({Channel.SMS}))

        app.relay_outbox()

        [confirmation] = messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS)
        [announcement] = messages(store, MessageType.ANNOUNCEMENT, Channel.SMS)
        assert confirmation.segments == 1
        assert announcement.segments is not None
        assert announcement.segments > 3
        assert announcement.status is MessageStatus.FAILED
        assert "too long for SMS" in announcement.decisions[-1]
        assert len(sms.sent) == 1


class TestSenderIdentity:
    def test_a_school_s_messages_go_out_under_its_own_sender_name_and_reply_address(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        sms: FakeSmsSender,
        email: FakeEmailSender,
    ) -> None:
        app.change_school(
            world.school.id,
            settings={
                "sender_id": "Oest Kor",
                "email_from_name": "Køreskolen Øst",
                "email_reply_to": "kontor@oest.dk",
            },
        )
        world.book(app, hours_from_now(clock, 30))

        app.relay_outbox()

        [(_, text, _)] = sms.sent
        [(_, mail, _)] = email.sent
        assert text.sender_id == "Oest Kor"
        assert (mail.from_name, mail.reply_to) == ("Køreskolen Øst", EmailAddress("kontor@oest.dk"))

    def test_without_its_own_identity_a_school_sends_as_the_platform(
        self, app: Application, world: World, clock: FrozenClock, email: FakeEmailSender
    ) -> None:
        world.book(app, hours_from_now(clock, 30))

        app.relay_outbox()

        [(_, mail, _)] = email.sent
        assert (mail.from_name, mail.reply_to) == (None, None)
