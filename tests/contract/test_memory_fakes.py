"""What only the in-memory fakes promise: their injection hooks and what they expose to tests."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from justdriving.adapters.email.log import LogEmailSender
from justdriving.adapters.memory import (
    SIGNATURE_HEADER,
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWork,
    MemoryUnitOfWorkFactory,
    MessageTemplate,
)
from justdriving.adapters.sms.log import LogSmsSender
from justdriving.domain.accounting import AccountingContact, AccountingInvoice, AccountingLine
from justdriving.domain.errors import (
    ConcurrencyConflict,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.ids import SchoolId
from justdriving.domain.messages import Channel, EmailMessage, SmsMessage
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxEvent
from justdriving.domain.payments import CaptureMode, PaymentStatus
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import MessageType, School
from justdriving.ports.payments import PaymentRequest, RefundRequest

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")
PHONE = PhoneNumber("+4520123456")
ADDRESS = EmailAddress("sofie@example.dk")


def a_request(
    key: str = "key_1", capture_mode: CaptureMode = CaptureMode.AUTOMATIC
) -> PaymentRequest:
    return PaymentRequest("pay_1", "sch_1", PRICE, "Lesson", key, capture_mode=capture_mode)


def an_inbox_event(event_id: str, id: str) -> InboxEvent:
    return InboxEvent(id, "fake", event_id, "payment.succeeded", NOW, b"{}")


# Persistence ------------------------------------------------------------------------------


def test_a_unit_of_work_says_whether_it_committed_and_the_store_counts_records() -> None:
    store = MemoryStore()
    uow = MemoryUnitOfWorkFactory(store)()
    assert isinstance(uow, MemoryUnitOfWork)
    with uow:
        uow.schools.add(School(id=SchoolId("sch_1"), name="Køreskolen"))
        assert not uow.committed
        uow.commit()
    assert uow.committed
    assert store.counts()["schools"] == store.count("schools") == 1
    assert store.counts()["bookings"] == 0
    assert store.commits == 1
    assert [s.name for s in store.records("schools")] == ["Køreskolen"]


def test_two_units_of_work_adding_the_same_id_conflict_at_the_second_commit() -> None:
    store = MemoryStore()
    with MemoryUnitOfWork(store) as first, MemoryUnitOfWork(store) as second:
        first.schools.add(School(id=SchoolId("sch_1"), name="First"))
        second.schools.add(School(id=SchoolId("sch_1"), name="Second"))
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()
    assert [s.name for s in store.records("schools")] == ["First"]


def test_two_units_of_work_storing_the_same_provider_event_conflict_at_the_second_commit() -> None:
    store = MemoryStore()
    with MemoryUnitOfWork(store) as first, MemoryUnitOfWork(store) as second:
        assert first.inbox.add(an_inbox_event("evt_1", "inb_1"))
        assert second.inbox.add(an_inbox_event("evt_1", "inb_2"))
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()
    assert store.count("inbox") == 1


# Payments ---------------------------------------------------------------------------------


def test_the_fake_gateway_exposes_its_charges_refunds_and_calls() -> None:
    gateway = FakePaymentGateway(clock=FrozenClock(NOW))
    session = gateway.start(a_request("key_start"))
    assert session.provider_payment_id.startswith("fake_pi_")
    assert session.client_secret is not None
    assert session.client_secret.startswith(f"{session.provider_payment_id}_secret_")
    assert session.redirect_url == f"/dev/checkout/{session.provider_payment_id}"
    gateway.succeed(session.provider_payment_id)
    gateway.refund(RefundRequest("re_1", session.provider_payment_id, Money(100, "DKK"), "x", "k2"))
    charge = gateway.charges[session.provider_payment_id]
    assert (charge.status, charge.captured, charge.refunded) == (
        PaymentStatus.SUCCEEDED,
        PRICE,
        Money(100, "DKK"),
    )
    assert charge.metadata["payment_id"] == "pay_1"
    assert [r.refund_id for r in gateway.refunds.values()] == ["re_1"]
    assert gateway.calls == [("start", "key_start"), ("refund", "k2")]


def test_decline_next_raises_payment_declined_with_the_code_once() -> None:
    gateway = FakePaymentGateway()
    gateway.decline_next("insufficient_funds")
    with pytest.raises(PaymentDeclined) as raised:
        gateway.start(a_request())
    assert raised.value.provider_code == "insufficient_funds"
    assert gateway.charges == {}
    assert gateway.start(a_request()).provider_payment_id


def test_an_ambiguous_outage_does_the_work_and_then_raises_so_a_retry_finds_it_done() -> None:
    gateway = FakePaymentGateway()
    gateway.fail_next(ProviderUnavailable("fake", "read timeout", possibly_done=True))
    with pytest.raises(ProviderUnavailable):
        gateway.start(a_request("key_ambiguous"))
    assert len(gateway.charges) == 1
    session = gateway.start(a_request("key_ambiguous"))
    assert list(gateway.charges) == [session.provider_payment_id]


def test_reusing_an_idempotency_key_for_other_arguments_is_refused() -> None:
    gateway = FakePaymentGateway()
    gateway.start(a_request("key_1"))
    other = PaymentRequest("pay_2", "sch_1", PRICE, "Lesson", "key_1")
    with pytest.raises(ProviderRejected):
        gateway.start(other)


def test_in_pending_refund_mode_a_refund_waits_for_complete_refund() -> None:
    gateway = FakePaymentGateway(clock=FrozenClock(NOW), refund_status=RefundStatus.PENDING)
    session = gateway.start(a_request())
    gateway.succeed(session.provider_payment_id)
    request = RefundRequest("re_1", session.provider_payment_id, PRICE, "x", "key_r")
    result = gateway.refund(request)
    assert result.status is RefundStatus.PENDING
    body, headers = gateway.complete_refund(result.provider_refund_id)
    assert gateway.refunds[result.provider_refund_id].status is RefundStatus.SUCCEEDED
    assert gateway.parse_webhook(body, headers, NOW)[0].refund_id == "re_1"


def test_fake_webhooks_have_the_documented_shape_and_any_header_case() -> None:
    gateway = FakePaymentGateway(webhook_secret="whsec_x", clock=FrozenClock(NOW))
    session = gateway.start(a_request())
    body, headers = gateway.succeed(session.provider_payment_id)
    event = json.loads(body)
    assert event["type"] == "payment.succeeded"
    assert event["id"].startswith("evt_")
    assert event["created"] == int(NOW.timestamp())
    assert event["data"]["amount"] == {"amount": 50000, "currency": "DKK"}
    assert headers[SIGNATURE_HEADER].startswith(f"t={int(NOW.timestamp())},v1=")
    lowered = {k.lower(): v for k, v in headers.items()}
    assert gateway.parse_webhook(body, lowered, NOW)[0].amount == PRICE


def test_parsing_a_webhook_refuses_a_naive_now() -> None:
    gateway = FakePaymentGateway(clock=FrozenClock(NOW))
    body, headers = gateway.succeed(gateway.start(a_request()).provider_payment_id)
    with pytest.raises(InvalidInput):
        gateway.parse_webhook(body, headers, NOW.replace(tzinfo=None))


# Messaging --------------------------------------------------------------------------------


def test_the_fake_sms_sender_records_what_it_sent_with_deterministic_ids() -> None:
    sender = FakeSmsSender()
    first = sender.send(PHONE, SmsMessage("Hello", "msg_1"))
    second = sender.send(PHONE, SmsMessage("Again", "msg_2"))
    assert [first.provider_message_id, second.provider_message_id] == ["fake_sms_1", "fake_sms_2"]
    assert [(to, m.body) for to, m, _ in sender.sent] == [(PHONE, "Hello"), (PHONE, "Again")]


def test_a_fake_sender_fails_on_demand_sending_nothing() -> None:
    sender = FakeSmsSender()
    sender.fail_next(ProviderUnavailable("fake", "timeout"))
    with pytest.raises(ProviderUnavailable):
        sender.send(PHONE, SmsMessage("Hello", "msg_1"))
    assert sender.sent == []
    sender.fail_next(ProviderUnavailable("fake", "lost reply", possibly_done=True))
    with pytest.raises(ProviderUnavailable):
        sender.send(PHONE, SmsMessage("Hello", "msg_1"))
    assert len(sender.sent) == 1


def test_an_sms_longer_than_providers_accept_is_rejected() -> None:
    with pytest.raises(ProviderRejected):
        FakeSmsSender().send(PHONE, SmsMessage("x" * 1601, "msg_1"))


def test_the_fake_email_sender_records_and_fails_on_demand() -> None:
    sender = FakeEmailSender()
    message = EmailMessage(ADDRESS, "Hi", "Text", "msg_1")
    assert sender.send(message).provider_message_id == "fake_email_1"
    sender.fail_next(ProviderRejected("fake", "bad request"))
    with pytest.raises(ProviderRejected):
        sender.send(message)
    assert [(to, m.reference) for to, m, _ in sender.sent] == [(ADDRESS, "msg_1")]


def test_log_senders_log_the_masked_recipient_and_never_the_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    LogSmsSender().send(PHONE, SmsMessage("secret code 1234", "msg_1"))
    LogEmailSender().send(EmailMessage(ADDRESS, "Private subject", "private text", "msg_2"))
    assert len(caplog.records) == 2
    logged = caplog.text
    assert PHONE.masked() in logged
    assert ADDRESS.masked() in logged
    for secret in ("+4520123456", "sofie@", "secret code", "private", "Private"):
        assert secret not in logged


def test_custom_templates_escape_context_in_html_only() -> None:
    template = MessageTemplate("Hi $recipient_name", "Hi $recipient_name", "<p>$recipient_name</p>")
    renderer = MemoryTemplateRenderer({(MessageType.ANNOUNCEMENT, Channel.EMAIL, "en"): template})
    rendered = renderer.render(
        MessageType.ANNOUNCEMENT, Channel.EMAIL, "en", {"recipient_name": "<b>Bo</b>"}
    )
    assert rendered.text == "Hi <b>Bo</b>"
    assert rendered.html == "<p>&lt;b&gt;Bo&lt;/b&gt;</p>"
    with pytest.raises(NotFound, match="reminder/email/en"):
        renderer.render(MessageType.REMINDER, Channel.EMAIL, "en", {})


# Accounting -------------------------------------------------------------------------------


def test_the_fake_accounting_client_fails_on_demand_and_refuses_a_reused_key() -> None:
    client = FakeAccountingClient()
    client.fail_next(ProviderUnavailable("fake", "rate limited", retry_after=30))
    with pytest.raises(ProviderUnavailable):
        client.upsert_contacts([AccountingContact("stu_1", "Sofie")], "key_1")
    assert client.contacts == {}
    client.upsert_contacts([AccountingContact("stu_1", "Sofie")], "key_1")
    with pytest.raises(ProviderRejected):
        client.upsert_contacts([AccountingContact("stu_2", "Bo")], "key_1")
    assert client.contacts["stu_1"].external_id.startswith("fake_contacts_")


def test_the_fake_accounting_client_refuses_a_second_invoice_with_the_same_number() -> None:
    client = FakeAccountingClient()
    line = AccountingLine("Lesson", 1, PRICE, "1000", "U25", True)
    due = NOW + timedelta(days=14)
    invoices = [
        AccountingInvoice(record_id, "7", "stu_1", NOW, due, "DKK", (line,))
        for record_id in ("inv_1", "inv_2")
    ]
    assert [r.ok for r in client.push_invoices(invoices, "key_1")] == [True, False]
