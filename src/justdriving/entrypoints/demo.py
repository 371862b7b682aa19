"""The demo flow: one lesson from booking to refund, on in-memory fakes, printed for a person."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import attrs
from rich.console import Console
from rich.table import Table

from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import AppEnv, Mailer, PaymentProvider, Settings, SmsProvider
from justdriving.container import build_container
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.bookings import CancellationPolicy, CancelledBy, FeeTier
from justdriving.domain.events import DomainEvent
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import AccountMapping, InvoiceService, SchoolSettings

MEMORY_URL: Final = "memory://"


def run_demo(settings: Settings, console: Console | None = None) -> Application:
    """Every provider is a fake: nothing leaves this process whatever the environment says.
    The records go to `settings`' database, migrated first (`justdriving demo` gives it
    DATABASE_URL=memory:// unless told --database)."""
    console = console or Console()
    settings = attrs.evolve(
        settings,
        payment_provider=PaymentProvider.FAKE,
        sms_provider=SmsProvider.FAKE,
        mail_mailer=Mailer.FAKE,
        app_env=AppEnv.DEVELOPMENT,
    )
    container = build_container(settings)
    if container.config.database() == "sql":
        upgrade(container.engine())
    app: Application = container.application()
    gateway = container.fake_gateway()
    dkk = "DKK"

    console.rule("[bold]1. A school, a teacher and a student")
    school = app.register_school(
        "Køreskolen Nord",
        settings=SchoolSettings(
            deposit_required=True,
            quiet_hours=None,
            # Every kind of line books to sales (200) with output VAT: a minimal chart.
            account_map={service: AccountMapping("200", "OUTPUT") for service in InvoiceService},
            # The seller's details a full Danish invoice carries.
            cvr_number="12345678",
            address=PostalAddress("Nørregade 1", "9000", "Aalborg"),
        ),
        contact_email="kontor@koreskolen-nord.dk",
    )
    teacher = app.add_teacher(school.id, "Mette Jensen", phone="+45 21 43 65 87")
    student = app.add_student(
        school.id,
        "Jonas Madsen",
        phone="20 12 34 56",
        email="jonas@example.com",
        address=PostalAddress("Algade 5", "9000", "Aalborg"),
    )
    lesson = app.add_booking_type(
        school.id,
        "Køretime (45 min)",
        duration=timedelta(minutes=45),
        price=Money.parse("500.00", dkk),
        deposit=Money.parse("100.00", dkk),
        policy=CancellationPolicy(
            free_until_hours=24,
            tiers=(FeeTier(within_hours=24, percent=50), FeeTier(within_hours=2, percent=100)),
        ),
    )
    console.print(f"{school.name}: {teacher.name} teaches {student.name} ({student.phone})")
    console.print(f"{lesson.name}: {lesson.price}, deposit {lesson.deposit}, 50 % fee inside 24 h")

    console.rule("[bold]2. A booking with a deposit")
    start = app.clock.now().replace(second=0, microsecond=0) + timedelta(hours=10)
    booking = app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=start,
    )
    console.print(f"Booked for {start:%Y-%m-%d %H:%M} UTC: {booking.status}")
    started = app.start_deposit(school.id, booking.id)
    console.print(
        f"Deposit {started.payment.amount} as a {started.payment.capture_mode} capture "
        f"(card hold: the lesson is within the hold window); client secret issued"
    )

    console.rule("[bold]3. The provider's webhook: the deposit hold succeeds")
    heard: list[str] = []
    app.subscribe(DomainEvent, lambda event: heard.append(event.topic))  # what the host hears
    body, headers = gateway.authorize(started.session.provider_payment_id)
    outcomes = app.receive_payment_webhook("fake", body, headers)
    again = app.receive_payment_webhook("fake", body, headers)
    console.print(
        f"Webhook applied: {[str(o) for o in outcomes]}; delivered again: {[str(o) for o in again]}"
    )
    console.print(f"Events committed: {', '.join(heard) or 'none'}")
    _show_messages(app, school.id, console, "Messages decided (in the outbox, not yet sent)")
    report = app.relay_outbox()
    console.print(f"Relay: {report.sent} sent, {report.retried} to retry, {report.dead} dead")

    console.rule("[bold]4. A late cancellation")
    outcome = app.cancel_booking(school.id, booking.id, by=CancelledBy.STUDENT)
    fee_invoice = outcome.invoices[0]
    console.print(
        f"Cancelled 10 h before: fee {outcome.fee}, invoice no. {fee_invoice.number}; "
        "the deposit hold is captured against it"
    )
    app.relay_outbox()  # captures the hold at the gateway
    body, headers = gateway.succeed(started.session.provider_payment_id)
    app.receive_payment_webhook("fake", body, headers)
    _show_invoice(app, fee_invoice.id, console)
    rest = app.record_manual_payment(
        school.id,
        student.id,
        amount=Money.parse("150.00", dkk),
        method=PaymentMethod.MOBILEPAY,
        invoice_id=fee_invoice.id,
        reference="MobilePay 4711",
    )
    console.print(f"Staff recorded {rest.amount} by {rest.method}")
    _show_invoice(app, fee_invoice.id, console)

    console.rule("[bold]5. A refund with its credit note")
    refund = app.refund(
        school.id, started.payment.id, amount=Money.parse("50.00", dkk), reason="goodwill"
    )
    app.relay_outbox()  # asks the gateway for the refund
    at_provider = [r for r in gateway.refunds.values() if r.refund_id == refund.id]
    for provider_refund in at_provider:
        body, headers = gateway.complete_refund(provider_refund.provider_refund_id)
        app.receive_payment_webhook("fake", body, headers)
    detail = app.money.invoice(fee_invoice.id)
    for row in detail.refunds:
        console.print(f"Refund {row.amount}: {row.status}")
    for note in detail.credit_notes:
        console.print(f"Credit note no. {note.number} for {note.amount}")
    app.relay_outbox()
    _show_messages(app, school.id, console, "Every message of the flow")

    console.rule("[bold]6. The balance")
    balance = app.balance(school.id, student.id)
    table = Table("invoiced", "credited", "paid", "refunded", "balance")
    table.add_row(
        *(
            str(m)
            for m in (
                balance.invoiced,
                balance.credited,
                balance.paid,
                balance.refunded,
                balance.amount,
            )
        )
    )
    console.print(table)
    return app


def _show_invoice(app: Application, invoice_id: str, console: Console) -> None:
    invoice = app.payer.invoice(invoice_id).invoice
    console.print(
        f"Invoice {invoice.number}: {invoice.totals.gross} incl. VAT {invoice.totals.vat}, "
        f"paid {invoice.paid}, outstanding {invoice.outstanding}: {invoice.status}"
    )


def _show_messages(app: Application, school_id: str, console: Console, title: str) -> None:
    table = Table("type", "channel", "to", "status", title=title)
    for message in reversed(app.operations.list_messages(school_id, limit=200)):
        table.add_row(message.type, message.channel, message.recipient, message.status)
    console.print(table)
