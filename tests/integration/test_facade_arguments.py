"""Every public use case on the facade refuses an ill-typed or out-of-range argument with a
JustDrivingError and leaves every stored record as it was, on memory://, SQLite and PostgreSQL
alike.

The use cases are found on the application itself (each public method of `Application` and of
`app.operations`), so a new use case is covered as soon as it is added; its parameters and their
annotations come from its signature. For each call, one argument is replaced by a value that
its annotation does not admit (drawn from a pool of values of many types, or a collection with
one wrong item) or that the domain cannot hold (a naive or far-off time, a span that would
overflow, money in another currency, an empty name, ...); every other required argument is a
valid one that points at real records, so the bad value is what the call meets.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from conftest import open_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration_support import NOW, build_world, dkk, snapshot

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.memory.store import TABLES
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import InvalidInput, InvalidMoney, JustDrivingError
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.accounting.export import ExportFormat
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.webhooks import WebhookRequest

FAR_EAST = timezone(timedelta(hours=14))
BAD_LINE = LineItem(InvoiceService.MATERIALS, "Teoribog", Money(100, "EUR"))

# Values of many types; those an argument's annotation does not admit are its ill-typed values.
POOL: list[Any] = [
    None,
    True,
    0,
    -7,
    10**30,
    2.5,
    float("nan"),
    "text",
    "",
    b"bytes",
    bytearray(b"x"),
    [],
    ("a", 1),
    {},
    {"key": 1},
    set(),
    frozenset({"sms"}),
    object(),
    Decimal("500.00"),
    Fraction(1, 3),
    datetime(2025, 3, 6, 9, 0),
    datetime(2025, 3, 6, 9, 0, tzinfo=UTC),
    date(2025, 3, 6),
    timedelta(minutes=45),
    time(9, 0),
    Money(50_000, "DKK"),
    CancelledBy.STUDENT,
    PaymentMethod.CASH,
    Channel.SMS,
    InvoiceService.LESSON,
    SchoolSettings(),
    LineItem(InvoiceService.MATERIALS, "Teoribog", Money(100, "DKK")),
]

# Values of the right type that the domain cannot hold, by parameter name.
OUT_OF_RANGE: dict[str, list[Any]] = {
    "start": [
        datetime(2025, 3, 6, 9, 0),
        datetime(9999, 12, 31, 23, 30, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=FAR_EAST),
        datetime(1969, 12, 31, tzinfo=UTC),
        NOW - timedelta(days=1),
    ],
    "duration": [timedelta.max, timedelta.min, timedelta(0), timedelta(days=1, seconds=1)],
    "valid_for": [timedelta.max, timedelta.min, timedelta(0), timedelta(days=-1)],
    "older_than": [timedelta.min, timedelta(seconds=-1)],
    "since": [date(1, 1, 1), date(9999, 12, 31), datetime(2025, 1, 1)],
    "limit": [0, -1, 10**30],
    "lessons": [0, -1, 10**30],
    "price": [Money(100, "EUR"), Money(-100, "DKK")],
    "amount": [Money(100, "EUR"), Money(-100, "DKK")],
    "deposit": [Money(100, "EUR"), Money(-100, "DKK"), Money(0, "DKK")],
    "name": ["", "   ", "x" * 201],
    "currency": ["dkk", "XXX", "DANISH"],
    "timezone": ["Mars/Base", ""],
    "phone_region": ["DNK", "1"],
    "phone": ["123", "+45 12"],
    "contact_phone": ["123", ""],
    "email": ["anna@", "no address"],
    "contact_email": ["kontor@", ""],
    "language": ["sv", "", "../da"],
    "template": ["", "../da/welcome", "_layout", "Welcome", "no_such_template"],
    "to": ["", "not an address", "stu_missing", "tch_missing", "anna@"],
    "context": [{"school_name": "Andet"}, {"1st": 1}, {"when": NOW}, {"n": float("inf")}],
    "idempotency_key": ["", "x" * 256],
    "redirect_uri": ["", "ftp://x", "not a url", "https://" + "x" * 2000],
    "state": ["", "with space", "x" * 501],
    "code": ["", "with space", "x" * 2001],
    "client_id": ["", "short", "with space 000000", "x" * 161],
    "client_secret": ["", "short", "with space 000000", "x" * 161],
    "webhook_id": ["", "WH/../x", "x" * 65],
    "pickup_note": ["x" * 201],
    "reason": ["", "   "],
    "student_ids": [[], "stu_text"],
    "items": [[], [BAD_LINE]],
    # attrs values built without their types: a field the annotation does not admit
    "sms": [
        InboundSms("twilio", "ev_1", PhoneNumber("+4520123456"), "+4512345678", "STOP", "now"),  # type: ignore[arg-type]
        InboundSms("twilio", "ev_1", "+4520123456", "+4512345678", "STOP", NOW),  # type: ignore[arg-type]
        InboundSms("twilio", "ev_1", PhoneNumber("+4520123456"), "+4512345678", None, NOW),  # type: ignore[arg-type]
    ],
    "receipts": [
        [DeliveryReceipt("twilio", "ev_2", "SM1", "delivered", NOW)],  # type: ignore[arg-type]
        [DeliveryReceipt("twilio", "ev_2", "SM1", MessageStatus.DELIVERED, 1_741_000_000)],  # type: ignore[arg-type]
    ],
}


@frozen
class Backend:
    app: Application
    snapshot: Callable[[], object]
    valid: Mapping[str, Any]
    sent: Callable[[], tuple[int, int, int]]


def _application(uow: Any) -> tuple[Application, Callable[[], tuple[int, int, int]]]:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", clock=clock)
    sms, email = FakeSmsSender(), FakeEmailSender()
    app = Application(
        uow=uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": gateway}),
        sms=sms,
        email=email,
        renderer=MemoryTemplateRenderer(),
    )
    return app, lambda: (len(gateway.charges), len(sms.sent), len(email.sent))


def _valid_arguments(app: Application) -> dict[str, Any]:
    """A valid value for each required parameter, pointing at real records."""
    world = build_world(app)
    booking = app.book_lesson(
        world.school.id,
        teacher_id=world.teacher.id,
        student_ids=[world.student.id],
        booking_type_id=world.lesson.id,
        start=NOW + timedelta(days=3),
    )
    items = [LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("250.00"))]
    invoice = app.issue_invoice(
        world.school.id, app.draft_invoice(world.school.id, world.student.id, items).id
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
    return {
        "school_id": world.school.id,
        "student_id": world.student.id,
        "plan_id": plan.id,
        "instalments": 3,
        "description": "Teori-app",
        "return_url": "https://skole.example.dk/stripe/retur",
        "refresh_url": "https://skole.example.dk/stripe/igen",
        "teacher_id": world.teacher.id,
        "booking_id": booking.id,
        "booking_type_id": world.lesson.id,
        "invoice_id": invoice.id,
        "payment_id": payment.id,
        "package_id": package.id,
        "inbox_id": "ibx_missing",
        "outbox_id": "obx_missing",
        "student_ids": [world.student.id],
        "start": NOW + timedelta(days=4),
        "name": "Bo Berg",
        "text": "Hej",
        "provider": "fake",
        "body": b"{}",
        "headers": {},
        "request": WebhookRequest("/webhook/sms/twilio/status", b"{}", {}),
        "items": items,
        "lessons": 5,
        "price": dkk("500.00"),
        "amount": dkk("100.00"),
        "duration": timedelta(minutes=45),
        "by": CancelledBy.STUDENT,
        "method": PaymentMethod.CASH,
        "channel": Channel.SMS,
        "receipts": [],
        "sms": InboundSms("twilio", "ev_1", PhoneNumber("+4520123456"), "+4512345678", "Hej", NOW),
        "format": ExportFormat.LEDGER,
        "older_than": timedelta(days=30),
        "reason": "Fejl",
        "charge_reason": ChargeReason(ChargeKind.NO_SHOW_FEE, booking.id),
        "provider_method_id": "pm_missing",
        "providers": frozenset({"fake"}),
        "kind": "invoice.paid",
        "handler": print,
        "template": "welcome",
        "to": world.student.id,
        "redirect_uri": "https://app.example/accounting/callback",
        "state": "st8Kq2",
        "code": "consent-code-1",
        "client_id": "AbNorthClient0000000001",
        "client_secret": "EbNorthSecret000000000001",
        "webhook_id": "WHNORTH0000000001",
    }


def _memory() -> Iterator[Backend]:
    store = MemoryStore()
    app, sent = _application(MemoryUnitOfWorkFactory(store))
    valid = _valid_arguments(app)

    def state() -> object:
        revisions = {t: {i: s.revision for i, s in store.rows(t)} for t in TABLES}
        return revisions, store.commits

    yield Backend(app, state, valid, sent)


def _sql(backend: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    database = open_database(backend, folder, request)
    try:
        app, sent = _application(database.uow)
        valid = _valid_arguments(app)
        yield Backend(app, lambda: snapshot(database.engine), valid, sent)
    finally:
        database.dispose()


@pytest.fixture(
    scope="module",
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.services),
    ],
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    if request.param == "memory":
        yield from _memory()
    else:
        yield from _sql(request.param, tmp_path_factory.mktemp("facade"), request)


# The use cases and their parameters -------------------------------------------------------


@frozen
class Parameter:
    name: str
    hint: Any
    required: bool


@frozen
class UseCase:
    name: str
    call: Callable[..., Any]
    parameters: tuple[Parameter, ...]

    def arguments(self, valid: Mapping[str, Any], bad: str, value: Any) -> dict[str, Any]:
        found = {p.name: valid[p.name] for p in self.parameters if p.required and p.name != bad}
        found[bad] = value
        return found


def use_cases(app: Application) -> list[UseCase]:
    """Every public method of the facade and of its `operations`, with its parameters."""
    found = []
    for target, prefix in ((app, ""), (app.operations, "operations.")):
        for name in sorted(dir(target)):
            member = getattr(target, name)
            if name.startswith("_") or not callable(member) or inspect.isclass(member):
                continue
            function = inspect.unwrap(member)
            if not inspect.ismethod(function):
                continue  # the unit-of-work factory and other collaborators
            hints = typing.get_type_hints(function)
            parameters = tuple(
                Parameter(p.name, hints[p.name], p.default is inspect.Parameter.empty)
                for p in inspect.signature(function).parameters.values()
            )
            found.append(UseCase(prefix + name, member, parameters))
    return found


def _classes(hint: Any) -> list[Any]:
    """The classes a hint admits at its top level (None for NoneType)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(hint) for c in _classes(arg)]
    if hint is None or hint is type(None):
        return [type(None)]
    return [typing.get_origin(hint) or hint]


def _admits(hint: Any, value: Any) -> bool:
    """A deliberately plain reading of the annotation, independent of the checker under test."""
    for cls in _classes(hint):
        if cls is typing.Any or cls is object:
            return True
        if cls is Callable or cls is typing.get_origin(Callable[[], None]):
            if callable(value):
                return True
        elif isinstance(value, cls) and not (isinstance(value, bool) and cls is not bool):
            return True
    return False


def _wrong_items(hint: Any) -> list[Any]:
    """Collections of the annotated kind holding one item the annotation does not admit."""
    found: list[Any] = []
    for arg in [hint, *typing.get_args(hint)]:
        origin, args = typing.get_origin(arg), typing.get_args(arg)
        if origin is None or not args:
            continue
        if origin in (list, tuple) or getattr(origin, "__name__", "") == "Sequence":
            found += [[v] for v in POOL if not _admits(args[0], v)][:4]
        elif origin is frozenset:
            found += [frozenset({v}) for v in POOL if _hashable(v) and not _admits(args[0], v)][:4]
        elif getattr(origin, "__name__", "") == "Mapping":
            found += [{"key": v} for v in POOL if not _admits(args[1], v)][:4]
    return found


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def bad_values(parameter: Parameter) -> list[Any]:
    ill_typed = [v for v in POOL if not _admits(parameter.hint, v)]
    return ill_typed + _wrong_items(parameter.hint) + OUT_OF_RANGE.get(parameter.name, [])


# Generated values: each strategy with a value standing for the type of what it draws.
TYPED_STRATEGIES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (None, st.none()),
    (True, st.booleans()),
    (0, st.integers()),
    (0.5, st.floats()),
    ("text", st.text(max_size=30)),
    (b"bytes", st.binary(max_size=30)),
    (Decimal(1), st.decimals()),
    ([], st.lists(st.integers(), max_size=3)),
    ({}, st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)),
    (datetime(2025, 1, 1), st.datetimes()),
    (date(2025, 1, 1), st.dates()),
    (timedelta(0), st.timedeltas()),
]
AFTER_RANGE = datetime(3000, 1, 2)
GENERATED_OUT_OF_RANGE: dict[str, st.SearchStrategy[Any]] = {
    "start": st.datetimes()  # naive
    | st.datetimes(min_value=AFTER_RANGE, timezones=st.just(UTC))
    | st.datetimes(max_value=datetime(1969, 12, 31), timezones=st.just(UTC)),
    "duration": st.timedeltas(max_value=timedelta(0))
    | st.timedeltas(min_value=timedelta(days=1, microseconds=1)),
    "valid_for": st.timedeltas(max_value=timedelta(0))
    | st.timedeltas(min_value=AFTER_RANGE - NOW.replace(tzinfo=None)),
    "older_than": st.timedeltas(max_value=-timedelta(microseconds=1)),
    "since": st.dates(max_value=date(1969, 12, 30)) | st.dates(min_value=date(3000, 1, 2)),
    "limit": st.integers(max_value=0) | st.integers(min_value=10_001),
    "lessons": st.integers(max_value=0) | st.integers(min_value=1_001),
    "price": st.integers(max_value=-1).map(lambda n: Money(max(n, -(10**18) + 1), "DKK")),
    "amount": st.integers(max_value=-1).map(lambda n: Money(max(n, -(10**18) + 1), "DKK"))
    | st.integers(1, 10**6).map(lambda n: Money(n, "EUR")),
    "name": st.text(alphabet=" \t", max_size=5) | st.text(min_size=201, max_size=300),
}


def generated_bad_values(parameter: Parameter) -> st.SearchStrategy[Any]:
    """Hypothesis' own values of the types the annotation does not admit, and out-of-range
    values of the types it does."""
    wrong = [s for sample, s in TYPED_STRATEGIES if not _admits(parameter.hint, sample)]
    if parameter.name in GENERATED_OUT_OF_RANGE:
        wrong.append(GENERATED_OUT_OF_RANGE[parameter.name])
    return st.one_of(st.sampled_from(bad_values(parameter)), *wrong)


def cases(app: Application) -> list[tuple[UseCase, Parameter]]:
    return [(u, p) for u in use_cases(app) for p in u.parameters]


# The properties -------------------------------------------------------------------------------


def _refused_and_unchanged(backend: Backend, use_case: UseCase, name: str, value: Any) -> None:
    before, sent = backend.snapshot(), backend.sent()
    arguments = use_case.arguments(backend.valid, name, value)

    with pytest.raises(JustDrivingError):
        use_case.call(**arguments)

    assert backend.snapshot() == before, (use_case.name, name, value)
    assert backend.sent() == sent, (use_case.name, name, value)


def _refusal_failure(use_case: UseCase, valid: Mapping[str, Any], name: str, value: Any) -> str:
    """'' when the call is refused with a JustDrivingError; else what happened instead."""
    try:
        use_case.call(**use_case.arguments(valid, name, value))
    except JustDrivingError:
        return ""
    except Exception as error:
        return f"{use_case.name}({name}={value!r:.60}) raised {type(error).__name__}: {error}"
    return f"{use_case.name}({name}={value!r:.60}) was accepted"


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_ill_typed_or_out_of_range_argument_to_any_use_case_is_refused_and_changes_nothing(
    backend: Backend, data: st.DataObject
) -> None:
    use_case, parameter = data.draw(st.sampled_from(cases(backend.app)), label="use case")
    value = data.draw(generated_bad_values(parameter), label=parameter.name)

    _refused_and_unchanged(backend, use_case, parameter.name, value)


def test_every_argument_of_every_use_case_refuses_each_of_its_bad_values(
    backend: Backend,
) -> None:
    """Each use case's bad calls, one after the other; the stored state is compared once per
    use case (a refusal that wrote anything shows there, with the use case's name)."""
    tried, failures = 0, []
    for use_case in use_cases(backend.app):
        before, sent = backend.snapshot(), backend.sent()
        for parameter in use_case.parameters:
            values = bad_values(parameter)
            assert values, (use_case.name, parameter.name)
            for value in values:
                failures.append(_refusal_failure(use_case, backend.valid, parameter.name, value))
                tried += 1
        if backend.snapshot() != before or backend.sent() != sent:
            failures.append(f"{use_case.name}: a refused call changed what is stored or sent")

    assert [f for f in failures if f] == []
    assert tried > 1_000


def test_the_use_cases_found_are_the_facade_s_whole_public_surface(backend: Backend) -> None:
    names = {use_case.name for use_case in use_cases(backend.app)}

    assert {"register_school", "book_lesson", "sell_package", "draft_invoice", "refund"} <= names
    assert {"relay_outbox", "sync_accounting", "operations.purge_sent"} <= names
    assert len(names) >= 40


# The reported cases, one by one ----------------------------------------------------------------


def _lesson(backend: Backend, **changes: Any) -> Callable[[], object]:
    arguments = {"duration": timedelta(minutes=45), "price": dkk("500.00"), **changes}
    school = backend.valid["school_id"]
    return lambda: backend.app.add_booking_type(school, "Køretime", **arguments)


def _booking(backend: Backend, start: Any) -> Callable[[], object]:
    v = backend.valid
    return lambda: backend.app.book_lesson(
        v["school_id"],
        teacher_id=v["teacher_id"],
        student_ids=v["student_ids"],
        booking_type_id=v["booking_type_id"],
        start=start,
    )


REPORTED: dict[str, Callable[[Backend], Callable[[], object]]] = {
    "a float where Money is expected": lambda b: _lesson(b, price=500.0),
    "an int where Money is expected": lambda b: _lesson(b, price=50_000),
    "an int where a timedelta is expected": lambda b: _lesson(b, duration=45),
    "a cancellation policy of the wrong type": lambda b: _lesson(b, policy="24h"),
    "a str where a datetime is expected": lambda b: _booking(b, "2025-03-07T09:00:00+00:00"),
    "a start in the year 9999": lambda b: _booking(b, datetime(9999, 12, 31, 23, 30, tzinfo=UTC)),
    "a package valid for timedelta.max": lambda b: (
        lambda: b.app.sell_package(
            b.valid["school_id"],
            b.valid["student_id"],
            booking_type_id=b.valid["booking_type_id"],
            lessons=5,
            price=dkk("2250.00"),
            valid_for=timedelta.max,
        )
    ),
    "an invoice line whose service is a plain string": lambda b: (
        lambda: b.app.draft_invoice(
            b.valid["school_id"],
            b.valid["student_id"],
            [LineItem("lesson", "Køretime", dkk("500.00"))],  # type: ignore[arg-type]
        )
    ),
    "settings of the wrong type": lambda b: (
        lambda: b.app.register_school("Køreskolen Syd", settings={"language": "en"})
    ),
    "a school contact phone that is no phone number": lambda b: (
        lambda: b.app.register_school("Køreskolen Syd", contact_phone="123")
    ),
    "a school contact email that is no address": lambda b: (
        lambda: b.app.register_school("Køreskolen Syd", contact_email="kontor@")
    ),
}


@pytest.mark.parametrize("case", list(REPORTED))
def test_each_reported_bad_input_is_refused_as_invalid_input_and_changes_nothing(
    backend: Backend, case: str
) -> None:
    call = REPORTED[case](backend)
    before, sent = backend.snapshot(), backend.sent()

    with pytest.raises(JustDrivingError) as refused:
        call()

    assert isinstance(refused.value, InvalidInput | InvalidMoney), refused.value
    assert backend.snapshot() == before
    assert backend.sent() == sent


def test_the_student_s_balance_overdue_invoices_and_next_invoice_still_work_after_a_refused_line(
    backend: Backend,
) -> None:
    v, app = backend.valid, backend.app
    with pytest.raises(InvalidInput):
        app.draft_invoice(v["school_id"], v["student_id"], [LineItem("lesson", "x", dkk("1.00"))])  # type: ignore[arg-type]

    app.balance(v["school_id"], v["student_id"])
    app.overdue_invoices(v["school_id"], v["student_id"])
    line = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
    draft = app.draft_invoice(v["school_id"], v["student_id"], [line])
    assert app.issue_invoice(v["school_id"], draft.id).number


def test_a_school_s_contact_phone_and_email_are_stored_parsed_like_a_student_s(
    backend: Backend,
) -> None:
    school = backend.app.register_school(
        "Køreskolen Nord", contact_phone="70 20 30 40", contact_email=" kontor@Nord.DK "
    )

    assert (school.contact_phone, school.contact_email) == ("+4570203040", "kontor@nord.dk")


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda app, v: app.add_booking_type(v["school_id"], "L", duration=45, price=v["price"]),
         ("add_booking_type", "duration", "timedelta", "int")),
        (lambda app, v: app.draft_invoice(v["school_id"], v["student_id"], [v["items"][0], 7]),
         ("draft_invoice", "items", "LineItem", "item 1")),
        (lambda app, v: app.sell_package(v["school_id"], v["student_id"], booking_type_id=v["booking_type_id"], lessons=True, price=v["price"]),  # noqa: E501
         ("sell_package", "lessons", "int", "bool")),
        (lambda app, v: app.operations.list_inbox(limit="5"), ("list_inbox", "limit", "str")),
        (lambda app, v: app.receive_inbound_sms(v["sms"].__class__("t", "e", v["sms"].sender, "+45", "x", "now")),  # noqa: E501
         ("receive_inbound_sms", "sms.received_at", "datetime")),
        (lambda app, v: app.book_lesson(v["school_id"]), ("book_lesson", "teacher_id")),
    ],
)  # fmt: skip
def test_a_refusal_names_the_use_case_the_argument_and_what_it_must_be(
    backend: Backend, call: Callable[[Application, Mapping[str, Any]], object], words: tuple[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        call(backend.app, backend.valid)

    for word in words:
        assert word in str(refused.value)
