"""Staff alerts: what the school's office must look at is recorded where it is found and
mailed in one digest per school, each line linking to the ops page's row; a storm is one
message, and nothing is mailed twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FrozenClock,
    MemoryStore,
)
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.messages import Channel
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService, MessageType, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.staff_alerts import AlertKind
from memory_app import memory_application

from .support import World, build_world, deliver, dkk, messages

OFFICE = "kontor@koreskolen.example"
BASE = "https://booking.koreskolen.example"


@pytest.fixture
def app(
    store: MemoryStore,
    clock: FrozenClock,
    gateway: FakePaymentGateway,
    email: FakeEmailSender,
) -> Application:
    return memory_application(
        clock,
        store=store,
        gateway=gateway,
        email=email,
        renderer=JinjaTemplateRenderer(),
        ops_base_url=BASE,
        staff_alert_email="drift@platform.example",
    )


def _office_world(app: Application, settings: SchoolSettings | None = None) -> World:
    world = build_world(app, name="Køreskolen Kontor", settings=settings)
    with app.uow() as uow:
        uow.schools.get(world.school.id).contact_email = OFFICE
        uow.commit()
    return world


def _held_payment(app: Application, world: World, gateway: FakePaymentGateway) -> str:
    line = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
    draft = app.draft_invoice(world.school.id, world.student.id, [line])
    invoice = app.issue_invoice(world.school.id, draft.id)
    started = app.start_invoice_payment(world.school.id, invoice.id)
    deliver(app, gateway.succeed(started.session.provider_payment_id, Money(49_900, "DKK")))
    return started.payment.id


def _alerts(store: MemoryStore) -> list[tuple[AlertKind, str]]:
    return [(a.kind, a.ops_path) for a in store.records("staff_alerts")]


def _digests(store: MemoryStore) -> list[dict[str, object]]:
    return [dict(m.context) for m in messages(store, MessageType.STAFF_ALERT, Channel.EMAIL)]


def test_a_payment_held_for_review_is_mailed_to_the_office_with_a_link_to_its_row(
    app: Application, gateway: FakePaymentGateway, store: MemoryStore, email: FakeEmailSender
) -> None:
    world = _office_world(app)
    payment_id = _held_payment(app, world, gateway)

    report = app.send_staff_alerts()
    app.relay_outbox()

    assert _alerts(store) == [(AlertKind.PAYMENT_HELD, f"/ops/payments/{payment_id}")]
    assert (report.mailed, report.alerts) == (1, 1)
    [(to, mail, _)] = [s for s in email.sent if s[1].subject.startswith("1 ting")]
    assert str(to) == OFFICE
    assert f"{BASE}/ops/payments/{payment_id}" in mail.text
    assert "afventer gennemsyn" in mail.text
    assert app.send_staff_alerts().mailed == 0  # nothing twice


def test_a_storm_of_alerts_is_one_message(
    app: Application, gateway: FakePaymentGateway, store: MemoryStore
) -> None:
    world = _office_world(app)
    for _ in range(12):
        _held_payment(app, world, gateway)

    report = app.send_staff_alerts()

    assert (report.mailed, report.alerts) == (1, 12)
    [digest] = _digests(store)
    assert digest["alert_count"] == 12


def test_without_an_office_address_the_platform_operator_is_told(
    app: Application, world: World, gateway: FakePaymentGateway, store: MemoryStore
) -> None:
    _held_payment(app, world, gateway)

    app.send_staff_alerts()

    [message] = messages(store, MessageType.STAFF_ALERT)
    assert str(message.recipient) == "drift@platform.example"


def test_with_nobody_to_tell_the_alert_is_set_aside_not_carried_forever(
    clock: FrozenClock, gateway: FakePaymentGateway, store: MemoryStore
) -> None:
    app = memory_application(clock, store=store, gateway=gateway)
    world = build_world(app)
    _held_payment(app, world, gateway)

    first, second = app.send_staff_alerts(), app.send_staff_alerts()

    assert (first.unaddressed, second.unaddressed) == (1, 0)
    assert messages(store, MessageType.STAFF_ALERT) == []


def test_a_refund_the_provider_refused_and_its_dead_row_are_alerts(
    app: Application, gateway: FakePaymentGateway, store: MemoryStore
) -> None:
    world = _office_world(app)
    line = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
    invoice = app.issue_invoice(
        world.school.id, app.draft_invoice(world.school.id, world.student.id, [line]).id
    )
    started = app.start_invoice_payment(world.school.id, invoice.id)
    deliver(app, gateway.succeed(started.session.provider_payment_id))
    app.refund(world.school.id, started.payment.id, amount=dkk("100.00"))
    gateway.fail_next(ProviderRejected("fake", "disputed", provider_code="charge_disputed"))

    app.relay_outbox()

    kinds = {kind for kind, _ in _alerts(store)}
    assert kinds == {AlertKind.REFUND_REFUSED, AlertKind.OUTBOX_DEAD}


def test_a_digest_that_cannot_go_out_raises_no_further_alert(
    app: Application, gateway: FakePaymentGateway, store: MemoryStore, email: FakeEmailSender
) -> None:
    world = _office_world(app)
    _held_payment(app, world, gateway)
    app.relay_outbox()  # the invoice's email goes first
    app.send_staff_alerts()
    email.fail_next(ProviderRejected("fake", "mailbox unavailable", provider_code="550"))

    app.relay_outbox()

    assert [kind for kind, _ in _alerts(store)] == [AlertKind.PAYMENT_HELD]


def test_a_student_blocked_from_booking_is_told_to_the_office_once(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    settings = SchoolSettings(block_booking_when_overdue=True, block_booking_overdue_days=10)
    world = _office_world(app, settings)
    line = LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("300.00"))
    invoice = app.issue_invoice(
        world.school.id, app.draft_invoice(world.school.id, world.student.id, [line]).id
    )
    for _ in range(14 + 40):
        clock.advance(timedelta(days=1))
        app.send_reminders()

    assert _alerts(store) == [(AlertKind.STUDENT_BLOCKED, f"/ops/invoices/{invoice.id}")]
    [alert] = store.records("staff_alerts")
    assert world.student.name in alert.text
