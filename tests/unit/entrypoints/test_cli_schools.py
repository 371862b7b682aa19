"""`justdriving schools show|change` and `students change`: a school's settings and a
student's details changed from the command line, refused values changing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, time

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.connect import PlatformFee
from justdriving.domain.money import Money
from justdriving.domain.schools import (
    AccountingCustomerMode,
    AccountMapping,
    InvoiceService,
    MessageType,
    QuietHours,
    School,
    SchoolSettings,
)
from justdriving.entrypoints.cli import main
from memory_app import memory_application

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


# The application handed to the command line (`main(obj=app)`, as an embedding service
# hands its own): the commands use it instead of building one from the environment.
HANDED: ContextVar[Application | None] = ContextVar("handed", default=None)


@pytest.fixture
def app() -> Iterator[Application]:
    wired = memory_application(FrozenClock(NOW))
    handed = HANDED.set(wired)
    yield wired
    HANDED.reset(handed)


@pytest.fixture
def school(app: Application) -> School:
    return app.register_school("Køreskolen Nord", contact_email="kontor@nord.dk")


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), obj=HANDED.get())
    assert "Traceback" not in result.output
    return result


def stored(app: Application, school_id: str) -> School:
    with app.uow() as uow:
        return uow.schools.get(school_id)


def test_a_school_s_settings_change_from_the_command_line(app: Application, school: School) -> None:
    result = run(
        *("schools", "change", school.id, "--name", "Køreskolen Nord ApS", "--no-sms"),
        *("--sms-types", "booking_confirmation,reminder", "--sender-id", "KoreNord"),
        *("--quiet-hours", "22:00-07:00", "--customer-mode", "shared"),
        *("--account", "lesson=1000:U25", "--account", "materials=1010:U25"),
        *("--contact-email", "", "--invoice-prefix", "N-", "--json"),
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["name"] == "Køreskolen Nord ApS"
    assert shown["accounts"] == {"lesson": "1000:U25", "materials": "1010:U25"}
    kept = stored(app, school.id)
    assert (kept.name, kept.contact_email) == ("Køreskolen Nord ApS", None)
    settings = kept.settings
    assert (settings.sms_enabled, settings.sender_id) == (False, "KoreNord")
    assert settings.invoice_number_prefix == "N-"
    assert settings.sms_message_types == {MessageType.BOOKING_CONFIRMATION, MessageType.REMINDER}
    assert settings.email_message_types == SchoolSettings().email_message_types  # kept
    assert settings.quiet_hours == QuietHours(time(22, 0), time(7, 0))
    assert settings.accounting_customer_mode is AccountingCustomerMode.SHARED
    assert settings.account_map[InvoiceService.LESSON] == AccountMapping("1000", "U25")


def test_an_account_given_later_keeps_the_others(app: Application, school: School) -> None:
    assert run("schools", "change", school.id, "--account", "lesson=1000:U25").exit_code == 0
    assert run("schools", "change", school.id, "--account", "package=1010:U25").exit_code == 0

    settings = stored(app, school.id).settings
    assert set(settings.account_map) == {InvoiceService.LESSON, InvoiceService.PACKAGE}
    assert settings.sms_enabled is True  # --sms/--no-sms not given: kept


@pytest.mark.parametrize(
    "bad",
    [
        ("--quiet-hours", "late"),
        ("--sms-types", "postcards"),
        ("--account", "lessons=1000:U25"),
        ("--account", "lesson=1000"),
        ("--contact-phone", "123"),
        ("--name", " "),
        ("--invoice-prefix", "N 1"),
        ("--platform-fee", "2.555%"),
        ("--platform-fee", "101%"),
        ("--platform-fee", "-1.00"),
        ("--platform-fee", "abc%"),
        ("--platform-fee", "five"),
    ],
)
def test_a_refused_school_change_says_why_and_changes_nothing(
    app: Application, school: School, bad: tuple[str, str]
) -> None:
    result = run("schools", "change", school.id, "--no-sms", *bad)

    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert stored(app, school.id).settings.sms_enabled is True


@pytest.mark.parametrize(
    ("given", "fee", "shown"),
    [
        ("2.5%", PlatformFee.share(250), "2.5%"),
        ("5.00", PlatformFee.fixed(Money(500, "DKK")), "5.00 DKK"),
        ("", None, None),
    ],
)
def test_a_platform_fee_is_a_share_or_a_flat_amount_in_the_schools_currency(
    app: Application, school: School, given: str, fee: PlatformFee | None, shown: str | None
) -> None:
    result = run("schools", "change", school.id, "--platform-fee", given, "--json")

    assert result.exit_code == 0, result.output
    assert stored(app, school.id).settings.platform_fee == fee
    assert json.loads(result.output)["platform_fee"] == shown


def test_schools_show_prints_the_settings(school: School) -> None:
    result = run("schools", "show", school.id)

    assert result.exit_code == 0, result.output
    assert "quiet hours     21:00-08:00" in result.output
    assert "contact email   kontor@nord.dk" in result.output


def test_an_unknown_school_is_named(app: Application) -> None:
    result = run("schools", "change", "sch_missing", "--no-sms")

    assert result.exit_code == 1
    assert "sch_missing" in result.output


def test_a_student_found_by_name_gets_new_details(app: Application, school: School) -> None:
    student = app.add_student(school.id, "Jonas Madsen", phone="20123456")

    result = run(
        *("students", "change", "Jonas", "--school", school.id, "--name", "Jonas Mølgaard"),
        *("--phone", "", "--email", "jonas@example.dk"),
        *("--street", "Vestergade 1", "--postcode", "8000", "--city", "Aarhus C", "--json"),
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["address"] == "Vestergade 1, 8000 Aarhus C"
    with app.uow() as uow:
        kept = uow.students.get(student.id)
    assert (kept.name, kept.phone, str(kept.email)) == ("Jonas Mølgaard", None, "jonas@example.dk")
    assert kept.address == PostalAddress("Vestergade 1", "8000", "Aarhus C")


def test_half_an_address_is_refused_and_nothing_changes(app: Application, school: School) -> None:
    student = app.add_student(school.id, "Jonas Madsen")

    result = run(
        *("students", "change", student.id, "--school", school.id, "--name", "Jonas M"),
        *("--street", "Vestergade 1"),
    )

    assert result.exit_code == 1
    assert "--postcode" in result.output
    with app.uow() as uow:
        assert uow.students.get(student.id).name == "Jonas Madsen"


def test_a_school_sends_under_its_own_name_and_takes_its_own_replies(
    app: Application, school: School
) -> None:
    result = run(
        *("schools", "change", school.id, "--sender-id", "Nord Kor"),
        *("--email-from-name", "Køreskolen Nord", "--email-reply-to", "kontor@nord.dk", "--json"),
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["email_from_name"], shown["email_reply_to"]) == (
        "Køreskolen Nord",
        "kontor@nord.dk",
    )
    back = run("schools", "change", school.id, "--email-from-name", "", "--email-reply-to", "")
    assert back.exit_code == 0, back.output
    kept = stored(app, school.id).settings
    assert (kept.sender_id, kept.email_from_name, kept.email_reply_to) == ("Nord Kor", None, None)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--sender-id", "Køreskolen"),  # not ASCII: no network carries it
        ("--sender-id", "Koreskolen Nord"),  # over 11 characters
        ("--sender-id", "12 34"),  # a sender with no letter is a number, and this is none
        ("--sender-id", "+4512345678901234"),  # over 15 digits
        ("--email-from-name", "Nord\nBcc: x@y.dk"),  # a header injection
        ("--email-reply-to", "kontor at nord"),
    ],
)
def test_a_sender_no_provider_would_take_is_refused_and_nothing_changes(
    app: Application, school: School, option: str, value: str
) -> None:
    before = stored(app, school.id)

    result = run("schools", "change", school.id, option, value)

    assert result.exit_code == 1, result.output
    assert stored(app, school.id) == before
