"""Every use case refuses bad input with a named error and leaves the store as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from attrs import frozen

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
)
from justdriving.application import Application
from justdriving.domain.bookings import Booking, CancelledBy
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidEmailAddress,
    InvalidInput,
    InvalidMoney,
    InvalidPhoneNumber,
    InvalidSignature,
    JustDrivingError,
    NotFound,
    RefundExceedsCaptured,
)
from justdriving.domain.invoices import Invoice
from justdriving.domain.payments import Payment, PaymentMethod
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem

from .support import World, build_world, dkk, eur, snapshot

MISSING = "xx_missing"


@frozen
class Scene:
    """A school with some history, and a second school whose records must stay out of reach."""

    world: World
    other: World
    booking: Booking
    invoice: Invoice
    payment: Payment
    package_id: str
    other_booking: Booking
    other_invoice: Invoice
    gateway: FakePaymentGateway
    clock: FrozenClock
    plan_id: str

    @property
    def school(self) -> str:
        return self.world.school.id

    @property
    def student(self) -> str:
        return self.world.student.id

    @property
    def soon(self) -> datetime:
        return self.clock.now() + timedelta(days=2)

    def book(self, app: Application, **changes: object) -> None:
        school = changes.pop("school_id", self.school)
        arguments: dict[str, object] = {
            "teacher_id": self.world.teacher.id,
            "student_ids": [self.student],
            "booking_type_id": self.world.lesson.id,
            "start": self.soon,
        }
        arguments.update(changes)
        app.book_lesson(school, **arguments)  # type: ignore[arg-type]

    def sell(self, app: Application, **changes: object) -> None:
        arguments: dict[str, object] = {
            "booking_type_id": self.world.lesson.id,
            "lessons": 5,
            "price": dkk("2250.00"),
        }
        arguments.update(changes)
        student = arguments.pop("student_id", self.student)
        app.sell_package(self.school, student, **arguments)  # type: ignore[arg-type]

    def sell_in_instalments(self, app: Application, **changes: object) -> None:
        arguments: dict[str, object] = {
            "booking_type_id": self.world.lesson.id,
            "lessons": 6,
            "price": dkk("2700.00"),
            "instalments": 3,
        }
        arguments.update(changes)
        student = arguments.pop("student_id", self.student)
        app.start_instalment_plan(self.school, student, **arguments)  # type: ignore[arg-type]

    def pay(self, app: Application, **changes: object) -> None:
        arguments: dict[str, object] = {"amount": dkk("100.00"), "method": PaymentMethod.CASH}
        arguments.update(changes)
        student = arguments.pop("student_id", self.student)
        app.record_manual_payment(self.school, student, **arguments)  # type: ignore[arg-type]


@pytest.fixture
def scene(app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway) -> Scene:
    other = build_world(app, "Vest Køreskole")
    booking = world.book(app, clock.now() + timedelta(days=3))
    other_booking = other.book(app, clock.now() + timedelta(days=3))
    items = [LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("250.00"))]
    invoice = app.issue_invoice(
        world.school.id, app.draft_invoice(world.school.id, world.student.id, items).id
    )
    other_invoice = app.issue_invoice(
        other.school.id, app.draft_invoice(other.school.id, other.student.id, items).id
    )
    payment = app.record_manual_payment(
        world.school.id, world.student.id, amount=dkk("300.00"), method=PaymentMethod.CASH
    )
    package, _ = app.sell_package(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=5,
        price=dkk("2250.00"),
    )
    plan = app.start_instalment_plan(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=6,
        price=dkk("2700.00"),
        instalments=3,
    )
    return Scene(
        world,
        other,
        booking,
        invoice,
        payment,
        package.id,
        other_booking,
        other_invoice,
        gateway,
        clock,
        plan.id,
    )


Call = Callable[[Application, Scene], object]

CASES: list[tuple[str, Call, type[JustDrivingError]]] = [
    # registration
    (
        "school: unknown timezone",
        lambda a, s: a.register_school("X", timezone="Mars/Base"),
        InvalidInput,
    ),
    ("school: unknown currency", lambda a, s: a.register_school("X", currency="dkk"), InvalidMoney),
    (
        "school: bad phone region",
        lambda a, s: a.register_school("X", phone_region="DNK"),
        InvalidInput,
    ),
    ("school: empty name", lambda a, s: a.register_school(""), InvalidInput),
    ("teacher: unknown school", lambda a, s: a.add_teacher(MISSING, "Lars"), NotFound),
    (
        "teacher: bad phone",
        lambda a, s: a.add_teacher(s.school, "Lars", phone="123"),
        InvalidPhoneNumber,
    ),
    ("student: unknown school", lambda a, s: a.add_student(MISSING, "Anna"), NotFound),
    (
        "student: bad email",
        lambda a, s: a.add_student(s.school, "Anna", email="anna@"),
        InvalidEmailAddress,
    ),
    (
        "student: bad phone",
        lambda a, s: a.add_student(s.school, "Anna", phone="+45 12"),
        InvalidPhoneNumber,
    ),
    (
        "student: bad language",
        lambda a, s: a.add_student(s.school, "Anna", language="sv"),
        InvalidInput,
    ),
    (
        "booking type: unknown school",
        lambda a, s: a.add_booking_type(
            MISSING, "L", duration=timedelta(minutes=45), price=dkk("500.00")
        ),
        NotFound,
    ),
    (
        "booking type: wrong currency",
        lambda a, s: a.add_booking_type(
            s.school, "L", duration=timedelta(minutes=45), price=eur("60.00")
        ),
        InvalidInput,
    ),
    (
        "booking type: negative price",
        lambda a, s: a.add_booking_type(
            s.school, "L", duration=timedelta(minutes=45), price=dkk("-1.00")
        ),
        InvalidInput,
    ),
    (
        "booking type: no duration",
        lambda a, s: a.add_booking_type(s.school, "L", duration=timedelta(0), price=dkk("500.00")),
        InvalidInput,
    ),
    # bookings
    ("book: unknown school", lambda a, s: s.book(a, school_id=MISSING), NotFound),
    ("book: unknown teacher", lambda a, s: s.book(a, teacher_id=MISSING), NotFound),
    (
        "book: another school's teacher",
        lambda a, s: s.book(a, teacher_id=s.other.teacher.id),
        NotFound,
    ),
    ("book: unknown student", lambda a, s: s.book(a, student_ids=[MISSING]), NotFound),
    (
        "book: another school's student",
        lambda a, s: s.book(a, student_ids=[s.other.student.id]),
        NotFound,
    ),
    ("book: empty student list", lambda a, s: s.book(a, student_ids=[]), InvalidInput),
    ("book: student ids as a string", lambda a, s: s.book(a, student_ids=s.student), InvalidInput),
    (
        "book: a student twice",
        lambda a, s: s.book(a, student_ids=[s.student, s.student]),
        InvalidInput,
    ),
    ("book: unknown booking type", lambda a, s: s.book(a, booking_type_id=MISSING), NotFound),
    (
        "book: another school's booking type",
        lambda a, s: s.book(a, booking_type_id=s.other.lesson.id),
        NotFound,
    ),
    ("book: naive start", lambda a, s: s.book(a, start=s.soon.replace(tzinfo=None)), InvalidInput),
    ("book: unknown package", lambda a, s: s.book(a, package_id=MISSING), NotFound),
    ("confirm: unknown booking", lambda a, s: a.confirm_booking(s.school, MISSING), NotFound),
    (
        "confirm: another school's booking",
        lambda a, s: a.confirm_booking(s.school, s.other_booking.id),
        NotFound,
    ),
    (
        "cancel: unknown booking",
        lambda a, s: a.cancel_booking(s.school, MISSING, by=CancelledBy.STUDENT),
        NotFound,
    ),
    (
        "cancel: another school's booking",
        lambda a, s: a.cancel_booking(s.school, s.other_booking.id, by=CancelledBy.SCHOOL),
        NotFound,
    ),
    (
        "cancel: by a plain string",
        lambda a, s: a.cancel_booking(s.school, s.booking.id, by="student"),
        InvalidInput,
    ),  # type: ignore[arg-type]
    ("complete: unknown booking", lambda a, s: a.complete_lesson(s.school, MISSING), NotFound),
    (
        "complete: another school's booking",
        lambda a, s: a.complete_lesson(s.school, s.other_booking.id),
        NotFound,
    ),
    ("no-show: unknown booking", lambda a, s: a.mark_no_show(s.school, MISSING), NotFound),
    ("no-show: unknown school", lambda a, s: a.mark_no_show(MISSING, s.booking.id), NotFound),
    # packages
    ("sell package: unknown student", lambda a, s: s.sell(a, student_id=MISSING), NotFound),
    (
        "sell package: unknown booking type",
        lambda a, s: s.sell(a, booking_type_id=MISSING),
        NotFound,
    ),
    ("sell package: wrong currency", lambda a, s: s.sell(a, price=eur("300.00")), InvalidInput),
    ("sell package: negative price", lambda a, s: s.sell(a, price=dkk("-1.00")), InvalidInput),
    ("sell package: no lessons", lambda a, s: s.sell(a, lessons=0), InvalidInput),
    (
        "sell package: negative validity",
        lambda a, s: s.sell(a, valid_for=timedelta(days=-1)),
        InvalidInput,
    ),
    ("refund package: unknown package", lambda a, s: a.refund_package(s.school, MISSING), NotFound),
    (
        "refund package: unpaid package",
        lambda a, s: a.refund_package(s.school, s.package_id),
        InvalidInput,
    ),
    # invoicing
    (
        "draft: unknown student",
        lambda a, s: a.draft_invoice(
            s.school, MISSING, [LineItem(InvoiceService.MATERIALS, "Bog", dkk("1.00"))]
        ),
        NotFound,
    ),
    ("draft: no lines", lambda a, s: a.draft_invoice(s.school, s.student, []), InvalidInput),
    (
        "draft: wrong currency",
        lambda a, s: a.draft_invoice(
            s.school, s.student, [LineItem(InvoiceService.MATERIALS, "Bog", eur("1.00"))]
        ),
        InvalidInput,
    ),
    (
        "draft: negative price",
        lambda a, s: a.draft_invoice(
            s.school, s.student, [LineItem(InvoiceService.MATERIALS, "Bog", dkk("-1.00"))]
        ),
        InvalidInput,
    ),
    ("issue: unknown invoice", lambda a, s: a.issue_invoice(s.school, MISSING), NotFound),
    (
        "issue: another school's invoice",
        lambda a, s: a.issue_invoice(s.school, s.other_invoice.id),
        NotFound,
    ),
    ("send: unknown invoice", lambda a, s: a.send_invoice(s.school, MISSING), NotFound),
    (
        "send: another school's invoice",
        lambda a, s: a.send_invoice(s.school, s.other_invoice.id),
        NotFound,
    ),
    ("void: unknown invoice", lambda a, s: a.void_invoice(s.school, MISSING, reason="x"), NotFound),
    (
        "void: another school's invoice",
        lambda a, s: a.void_invoice(s.school, s.other_invoice.id, reason="x"),
        NotFound,
    ),
    (
        "void: no reason",
        lambda a, s: a.void_invoice(s.school, s.invoice.id, reason=""),
        InvalidInput,
    ),
    # payments
    (
        "start payment: unknown invoice",
        lambda a, s: a.start_invoice_payment(s.school, MISSING),
        NotFound,
    ),
    (
        "start payment: unknown school",
        lambda a, s: a.start_invoice_payment(MISSING, s.invoice.id),
        NotFound,
    ),
    (
        "start payment: another school's invoice",
        lambda a, s: a.start_invoice_payment(s.school, s.other_invoice.id),
        NotFound,
    ),
    ("start deposit: unknown booking", lambda a, s: a.start_deposit(s.school, MISSING), NotFound),
    (
        "start deposit: another school's booking",
        lambda a, s: a.start_deposit(s.school, s.other_booking.id),
        NotFound,
    ),
    ("manual payment: unknown student", lambda a, s: s.pay(a, student_id=MISSING), NotFound),
    (
        "manual payment: unknown school",
        lambda a, s: a.record_manual_payment(
            MISSING, s.student, amount=dkk("1.00"), method=PaymentMethod.CASH
        ),
        NotFound,
    ),
    ("manual payment: wrong currency", lambda a, s: s.pay(a, amount=eur("100.00")), InvalidInput),
    ("manual payment: negative amount", lambda a, s: s.pay(a, amount=dkk("-100.00")), InvalidInput),
    ("manual payment: zero amount", lambda a, s: s.pay(a, amount=dkk("0.00")), InvalidInput),
    ("manual payment: unknown invoice", lambda a, s: s.pay(a, invoice_id=MISSING), NotFound),
    (
        "manual payment: another school's invoice",
        lambda a, s: s.pay(a, invoice_id=s.other_invoice.id),
        NotFound,
    ),
    (
        "manual payment: online method",
        lambda a, s: s.pay(a, method=PaymentMethod.ONLINE),
        InvalidInput,
    ),
    (
        "webhook: unknown provider",
        lambda a, s: a.receive_payment_webhook("stripe", b"{}", {}),
        NotFound,
    ),
    (
        "webhook: no signature",
        lambda a, s: a.receive_payment_webhook("fake", b"{}", {}),
        InvalidSignature,
    ),
    (
        "webhook: not json, signed for another body",
        lambda a, s: a.receive_payment_webhook(
            "fake", b"nope", s.gateway.sign(b"yes", s.clock.now())
        ),
        InvalidSignature,
    ),
    # refunds
    ("refund: unknown payment", lambda a, s: a.refund(s.school, MISSING), NotFound),
    ("refund: unknown school", lambda a, s: a.refund(MISSING, s.payment.id), NotFound),
    (
        "refund: another school's payment",
        lambda a, s: a.refund(s.other.school.id, s.payment.id),
        NotFound,
    ),
    (
        "refund: negative amount",
        lambda a, s: a.refund(s.school, s.payment.id, amount=dkk("-1.00")),
        InvalidInput,
    ),
    (
        "refund: wrong currency",
        lambda a, s: a.refund(s.school, s.payment.id, amount=eur("1.00")),
        InvalidInput,
    ),
    ("refund: no reason", lambda a, s: a.refund(s.school, s.payment.id, reason=" "), InvalidInput),
    (
        "refund: above what was captured",
        lambda a, s: a.refund(s.school, s.payment.id, amount=dkk("300.01")),
        RefundExceedsCaptured,
    ),
    # payment plans
    (
        "instalments: one instalment",
        lambda a, s: s.sell_in_instalments(a, instalments=1),
        InvalidInput,
    ),
    (
        "instalments: more than 24",
        lambda a, s: s.sell_in_instalments(a, instalments=25),
        InvalidInput,
    ),
    (
        "instalments: wrong currency",
        lambda a, s: s.sell_in_instalments(a, price=eur("300.00")),
        InvalidInput,
    ),
    (
        "instalments: another school's student",
        lambda a, s: s.sell_in_instalments(a, student_id=s.other.student.id),
        NotFound,
    ),
    (
        "instalments: another school's lesson",
        lambda a, s: s.sell_in_instalments(a, booking_type_id=s.other.lesson.id),
        NotFound,
    ),
    (
        "instalments: not valid for any time",
        lambda a, s: s.sell_in_instalments(a, valid_for=timedelta(0)),
        InvalidInput,
    ),
    (
        "recurring fee: no description",
        lambda a, s: a.start_recurring_fee(
            s.school, s.student, amount=dkk("99.00"), description=""
        ),
        InvalidInput,
    ),
    (
        "recurring fee: zero amount",
        lambda a, s: a.start_recurring_fee(
            s.school, s.student, amount=dkk("0.00"), description="Teori"
        ),
        InvalidInput,
    ),
    (
        "recurring fee: ends before it starts",
        lambda a, s: a.start_recurring_fee(
            s.school, s.student, amount=dkk("99.00"), description="Teori", ends_at=s.clock.now()
        ),
        InvalidInput,
    ),
    (
        "recurring fee: starts in the past",
        lambda a, s: a.start_recurring_fee(
            s.school,
            s.student,
            amount=dkk("99.00"),
            description="Teori",
            starts_at=s.clock.now() - timedelta(days=30),
        ),
        InvalidInput,
    ),
    ("cancel plan: unknown plan", lambda a, s: a.cancel_plan(s.school, MISSING), NotFound),
    (
        "cancel plan: another school's plan",
        lambda a, s: a.cancel_plan(s.other.school.id, s.plan_id),
        NotFound,
    ),
    ("plan: unknown plan", lambda a, s: a.payment_plan(s.school, MISSING), NotFound),
    (
        "plan: another school's plan",
        lambda a, s: a.payment_plan(s.other.school.id, s.plan_id),
        NotFound,
    ),
    (
        "plans: another school's student",
        lambda a, s: a.payment_plans(s.school, s.other.student.id),
        NotFound,
    ),
    # Stripe Connect onboarding
    (
        "connect account: unknown school",
        lambda a, s: a.connect_stripe_account(
            MISSING, "https://a.example/r", "https://a.example/f"
        ),
        NotFound,
    ),
    (
        "connect account: relative return url",
        lambda a, s: a.connect_stripe_account(s.school, "/r", "https://a.example/f"),
        InvalidInput,
    ),
    (
        "connect account: refresh url not http",
        lambda a, s: a.connect_stripe_account(s.school, "https://a.example/r", "javascript:x"),
        InvalidInput,
    ),
    (
        "connect account: url as bytes",
        lambda a, s: a.connect_stripe_account(
            s.school, b"https://a.example/r", "https://a.example/f"
        ),
        InvalidInput,
    ),  # type: ignore[arg-type]
    (
        "connect account: the platform is not in Connect mode",
        lambda a, s: a.connect_stripe_account(
            s.school, "https://a.example/r", "https://a.example/f"
        ),
        ConfigurationError,
    ),
    ("refresh account: unknown school", lambda a, s: a.refresh_stripe_account(MISSING), NotFound),
    (
        "refresh account: the platform is not in Connect mode",
        lambda a, s: a.refresh_stripe_account(s.school),
        ConfigurationError,
    ),
    # queries
    ("balance: unknown school", lambda a, s: a.balance(MISSING, s.student), NotFound),
    ("balance: unknown student", lambda a, s: a.balance(s.school, MISSING), NotFound),
    ("overdue: unknown school", lambda a, s: a.overdue_invoices(MISSING, s.student), NotFound),
    ("overdue: unknown student", lambda a, s: a.overdue_invoices(s.school, MISSING), NotFound),
]


@pytest.mark.parametrize(("call", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_named_error_and_changes_nothing(
    app: Application,
    scene: Scene,
    store: MemoryStore,
    gateway: FakePaymentGateway,
    sms: FakeSmsSender,
    email: FakeEmailSender,
    call: Call,
    error: type[JustDrivingError],
) -> None:
    before = snapshot(store)
    commits = store.commits
    charges = len(gateway.charges)

    with pytest.raises(error):
        call(app, scene)

    assert snapshot(store) == before
    assert store.commits == commits
    assert len(gateway.charges) == charges
    assert sms.sent == email.sent == []
