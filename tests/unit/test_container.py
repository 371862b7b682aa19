"""The composition root: settings choose adapters; production refuses what it must."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from justdriving.adapters.memory import FakeSmsSender, FrozenClock, MemoryUnitOfWorkFactory
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import bootstrap, build_container
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.messages import Channel
from justdriving.domain.money import Money


def settings(**environ: str) -> Settings:
    return Settings.from_env(environ, env_file=None)


def test_outside_production_nothing_needs_configuring(tmp_path: Path) -> None:
    container = build_container(settings(DATABASE_URL=f"sqlite:///{tmp_path / 'jd.db'}"))

    assert isinstance(container.sms(), FakeSmsSender)
    assert isinstance(container.uow(), SqlUnitOfWorkFactory)


def test_without_a_token_key_the_sql_unit_of_work_stores_tokens_as_they_are(
    tmp_path: Path,
) -> None:
    container = build_container(settings(DATABASE_URL=f"sqlite:///{tmp_path / 'jd.db'}"))

    assert container.uow().cipher is None


def test_a_token_key_gives_the_sql_unit_of_work_its_cipher(tmp_path: Path) -> None:
    container = build_container(
        settings(
            DATABASE_URL=f"sqlite:///{tmp_path / 'jd.db'}",
            ACCOUNTING_TOKEN_KEY="x3Fq0cZ7d9yJ1aVbKpLw8nT2rS5uE6hG4iO0mN3kQ1c=",
        )
    )

    assert isinstance(container.uow().cipher, TokenCipher)


def test_a_memory_database_wires_the_in_memory_unit_of_work() -> None:
    app = bootstrap(settings(DATABASE_URL="memory://"))

    assert isinstance(app, Application)
    assert isinstance(app.uow, MemoryUnitOfWorkFactory)
    school = app.register_school("Køreskolen Syd")
    with app.uow() as uow:
        assert uow.schools.get(school.id).name == "Køreskolen Syd"


def test_the_sms_kill_switch_sends_no_sms_and_says_why_on_the_message() -> None:
    from datetime import UTC, datetime, timedelta

    from justdriving.domain.messages import Channel, MessageStatus

    container = build_container(settings(DATABASE_URL="memory://", SMS_ENABLED="false"))
    container.clock.override(FrozenClock(datetime(2027, 1, 15, 9, 30, tzinfo=UTC)))
    app = container.application()
    school = app.register_school("Nord")
    teacher = app.add_teacher(school.id, "Mette")
    student = app.add_student(school.id, "Jonas", phone="20 12 34 56", email="j@example.com")
    lesson = app.add_booking_type(
        school.id, "Lesson", duration=timedelta(minutes=45), price=Money.parse("500", "DKK")
    )
    start = app.clock.now().replace(hour=11, minute=0) + timedelta(days=5)
    app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=start,
    )

    app.relay_outbox()

    with app.uow() as uow:
        by_channel = {m.channel: m for m in uow.messages.for_school(school.id)}
    assert by_channel[Channel.SMS].status is MessageStatus.SUPPRESSED
    assert "SMS_ENABLED is off" in by_channel[Channel.SMS].decisions[-1]
    assert by_channel[Channel.EMAIL].status is MessageStatus.SENT


def test_the_fake_gateway_signs_its_webhooks_on_the_apps_clock_when_that_is_overridden() -> None:
    from datetime import UTC, datetime

    pinned = datetime(2027, 1, 15, 22, 30, tzinfo=UTC)
    container = build_container(settings(DATABASE_URL="memory://"))
    container.clock.override(FrozenClock(pinned))

    _, headers = container.fake_gateway().webhook("payment.succeeded", {"id": "pi_1"})

    assert headers["Fake-Signature"].startswith(f"t={int(pinned.timestamp())},")


def test_a_staging_redirect_that_is_not_a_phone_number_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SMS_REDIRECT_TO"):
        build_container(settings(DATABASE_URL="memory://", SMS_REDIRECT_TO="not a number"))


def test_an_unmigrated_database_is_refused_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="justdriving migrate"):
        bootstrap(settings(DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}"))


def test_production_refuses_fake_providers_and_names_each_setting() -> None:
    production = settings(
        APP_ENV="production",
        DATABASE_URL="postgresql://db.internal/justdriving",
        PUBLIC_BASE_URL="https://school.example",
    )

    with pytest.raises(ConfigurationError) as refused:
        build_container(production)

    named = " ".join(refused.value.problems)
    for variable in ("PAYMENT_PROVIDER", "SMS_PROVIDER", "MAIL_MAILER"):
        assert variable in named


def test_a_real_provider_without_its_credentials_refuses_to_start_and_names_them() -> None:
    container = build_container(settings(DATABASE_URL="memory://", SMS_PROVIDER="twilio"))

    with pytest.raises(ConfigurationError, match="SMS_PROVIDER"):
        container.sms()


def test_stripe_becomes_every_schools_default_gateway_and_the_only_one() -> None:
    from justdriving.adapters.payments.stripe.gateway import StripeGateway
    from justdriving.domain.schools import School

    container = build_container(
        settings(
            DATABASE_URL="memory://",
            PAYMENT_PROVIDER="stripe",
            PAYMENT_PROVIDER_SECRET="sk_test_development",
            PAYMENT_WEBHOOK_SECRET="whsec_development",
        )
    )

    registry = container.gateways()
    assert isinstance(registry.for_school(School(id="sch_1", name="Nord")), StripeGateway)
    # The fake's events are signed with PAYMENT_WEBHOOK_SECRET too: it must not be there.
    with pytest.raises(ConfigurationError, match=r"configured: stripe$"):
        registry.by_name("fake")


@pytest.mark.parametrize(
    ("provider", "extra"),
    [
        ("stripe", {"PAYMENT_PROVIDER_SECRET": "sk_test_x", "PAYMENT_WEBHOOK_SECRET": "whsec_x"}),
        ("paypal", {"PAYMENT_PROVIDER_KEY": "id", "PAYMENT_PROVIDER_SECRET": "secret",
                    "PAYMENT_WEBHOOK_SECRET": "WH-1"}),
        ("manual", {}),
    ],
)  # fmt: skip
def test_the_fake_gateway_is_there_only_when_it_is_the_one_chosen(
    provider: str, extra: dict[str, str]
) -> None:
    chosen = build_container(settings(DATABASE_URL="memory://", PAYMENT_PROVIDER=provider, **extra))
    default = build_container(settings(DATABASE_URL="memory://"))

    with pytest.raises(ConfigurationError):
        chosen.gateways().by_name("fake")
    assert default.gateways().by_name("fake") is default.fake_gateway()


def test_paypal_outside_production_talks_to_its_sandbox() -> None:
    from justdriving.adapters.payments.paypal.gateway import PayPalGateway

    container = build_container(
        settings(
            DATABASE_URL="memory://",
            PAYMENT_PROVIDER="paypal",
            PAYMENT_PROVIDER_KEY="client-id",
            PAYMENT_PROVIDER_SECRET="client-secret",
            PAYMENT_WEBHOOK_SECRET="WH-1",
        )
    )

    gateway = container.gateways().by_name("paypal")
    assert isinstance(gateway, PayPalGateway)
    assert "sandbox" in repr(gateway)


def test_a_manual_only_platform_refuses_online_payments_by_default() -> None:
    from justdriving.domain.errors import PaymentNotAllowed
    from justdriving.domain.schools import School

    container = build_container(settings(DATABASE_URL="memory://", PAYMENT_PROVIDER="manual"))

    with pytest.raises(PaymentNotAllowed):
        container.gateways().for_school(School(id="sch_1", name="Nord"))


GATEWAYAPI = {
    "DATABASE_URL": "memory://",
    "SMS_PROVIDER": "gatewayapi",
    "SMS_PROVIDER_SECRET": "gatewayapi-token",
    "SMS_FROM_NUMBER": "Koreskolen",
}


def test_without_sms_rate_limit_the_providers_sender_is_used_as_it_is() -> None:
    from justdriving.adapters.sms.gatewayapi.sender import GatewayApiSmsSender

    container = build_container(settings(**GATEWAYAPI))

    sender = container.sms()
    assert isinstance(sender, GatewayApiSmsSender)
    assert container.sms_limiter() is None
    sender.close()


def test_sms_rate_limit_paces_the_providers_sender_with_one_limiter_per_process() -> None:
    from justdriving.adapters.sms.gatewayapi.sender import GatewayApiSmsSender
    from justdriving.adapters.sms.pacing import PacedSmsSender

    container = build_container(settings(**GATEWAYAPI, SMS_RATE_LIMIT="40"))

    sender = container.sms()
    assert isinstance(sender, PacedSmsSender)
    assert isinstance(sender.inner, GatewayApiSmsSender)
    assert sender.name == "gatewayapi"
    assert sender.limiter is container.sms_limiter()  # shared by every relay thread
    assert sender.limiter.per_window == 40
    assert sender.limiter.window == 1.0
    assert container.sms() is sender
    sender.close()


def test_the_relay_holds_a_claimed_row_for_the_configured_lease() -> None:
    container = build_container(settings(DATABASE_URL="memory://", RELAY_LEASE_SECONDS="7"))

    assert container.relay_policy().lease == timedelta(seconds=7)
    assert container.relay_policy().in_flight == 1
    wide = build_container(settings(DATABASE_URL="memory://", RELAY_IN_FLIGHT="8"))
    assert wide.relay_policy().in_flight == 8
    assert build_container(settings(DATABASE_URL="memory://")).relay_policy().lease == timedelta(
        minutes=2
    )


@pytest.mark.parametrize("provider", ["fake", "log"])
def test_the_development_senders_are_never_paced(provider: str) -> None:
    from justdriving.adapters.sms.pacing import PacedSmsSender

    container = build_container(
        settings(DATABASE_URL="memory://", SMS_PROVIDER=provider, SMS_RATE_LIMIT="1")
    )

    assert not isinstance(container.sms(), PacedSmsSender)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, type(None)),
        ({"ACCOUNTING_PROVIDER": "fake"}, "FakeAccountingClient"),
        ({"ACCOUNTING_PROVIDER": "csv"}, "CsvAccountingClient"),
        (
            {"ACCOUNTING_PROVIDER": "xero", "ACCOUNTING_API_KEY": "id",
             "ACCOUNTING_API_SECRET": "s", "ACCOUNTING_TENANT_ID": "t"},
            "XeroAccountingClient",
        ),
        (
            {"ACCOUNTING_PROVIDER": "quickbooks", "ACCOUNTING_API_KEY": "id",
             "ACCOUNTING_API_SECRET": "s", "ACCOUNTING_TENANT_ID": "9130"},
            "QuickBooksAccountingClient",
        ),
    ],
)  # fmt: skip
def test_accounting_provider_chooses_the_accounting_client(
    environ: dict[str, str], expected: type | str, tmp_path: Path
) -> None:
    container = build_container(
        settings(DATABASE_URL="memory://", ACCOUNTING_EXPORT_DIR=str(tmp_path), **environ)
    )

    client = container.accounting()

    if isinstance(expected, str):
        if hasattr(client, "for_school"):  # books per school: the platform's organisation
            client = client.for_school("school-without-its-own-books")
        assert type(client).__name__ == expected
    else:
        assert client is None
    assert container.accounting() is client or container.accounting().for_school("s") is client


@pytest.mark.parametrize(
    ("mailer", "expected"),
    [("fake", "FakeEmailSender"), ("log", "LogEmailSender"), ("file", "FileInboxEmailSender"),
     ("smtp", "SmtpEmailSender"), ("sendgrid", "SendGridEmailSender"),
     ("mailgun", "MailgunEmailSender")],
)  # fmt: skip
def test_mail_mailer_chooses_the_email_sender(mailer: str, expected: str, tmp_path: Path) -> None:
    container = build_container(
        settings(
            DATABASE_URL="memory://",
            MAIL_MAILER=mailer,
            MAIL_API_KEY="key",
            MAIL_FROM_ADDRESS="kontor@example.dk",
            MAIL_INBOX_DIR=str(tmp_path),
        )
    )

    assert type(container.email()).__name__ == expected


@pytest.mark.parametrize(
    "url",
    [
        "not a database url",
        "postgresql://app:Pw9secret@db:notaport/app",
        "postgresql+nosuchdriver://app:Pw9secret@db/app",
        "oracle://app:Pw9secret@db/app",
    ],
)
def test_a_malformed_database_url_is_a_configuration_error_naming_it_and_not_its_password(
    url: str,
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        build_container(settings(DATABASE_URL=url))

    shown = " ".join([str(refused.value), *refused.value.problems])
    assert "DATABASE_URL" in shown
    assert "Pw9secret" not in shown


def test_a_provider_overridden_in_a_with_block_is_used_there_and_only_there() -> None:
    container = build_container(settings(DATABASE_URL="memory://"))
    mine = FakeSmsSender()

    with container.sms.override(mine):
        assert container.sms() is mine
    assert container.sms() is not mine
    assert isinstance(container.sms(), FakeSmsSender)


def test_bootstrap_returns_an_overridden_application_without_touching_the_database(
    tmp_path: Path,
) -> None:
    from justdriving.container import Container
    from memory_app import memory_application

    wired = memory_application(FrozenClock(datetime(2027, 1, 15, 9, 30, tzinfo=UTC)))
    unmigrated = settings(DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")

    with Container.application.override(wired):
        assert bootstrap(unmigrated) is wired
    with pytest.raises(ConfigurationError, match="justdriving migrate"):
        bootstrap(unmigrated)


def test_an_unreachable_database_is_a_configuration_error_naming_it_without_its_password(
    tmp_path: Path,
) -> None:
    # a SQLite file in a folder that does not exist cannot be opened, like a server that is down
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'jd.db'}"

    with pytest.raises(ConfigurationError) as refused:
        bootstrap(settings(DATABASE_URL=url))

    assert refused.value.problems[0].startswith("DATABASE_URL: cannot connect to sqlite:///")


def test_an_unreachable_postgresql_server_is_named_with_its_password_hidden() -> None:
    url = "postgresql://app:Pw9Zq4Xr@127.0.0.1:1/app?connect_timeout=2"

    with pytest.raises(ConfigurationError) as refused:
        bootstrap(settings(DATABASE_URL=url))

    (problem,) = refused.value.problems
    assert problem.startswith("DATABASE_URL: cannot connect to postgresql+psycopg://app:***@")
    assert "Pw9Zq4Xr" not in str(refused.value) + problem


def test_the_hosts_template_folders_are_searched_before_the_packages(tmp_path: Path) -> None:
    (tmp_path / "da").mkdir()
    (tmp_path / "da" / "welcome.subject.j2").write_text("Hej og velkommen\n")
    container = build_container(
        settings(DATABASE_URL="memory://", MESSAGE_TEMPLATE_PATH=str(tmp_path))
    )

    rendered = container.renderer().render(
        "welcome", Channel.EMAIL, "da", {"school_name": "Syd", "recipient_name": "Bo"}
    )

    assert rendered.subject == "Hej og velkommen"
    assert "Velkommen til Syd" in rendered.text  # the package's body, not overridden


def test_a_template_folder_that_is_not_there_is_refused_by_name(tmp_path: Path) -> None:
    container = build_container(
        settings(
            DATABASE_URL="memory://",
            MESSAGE_TEMPLATE_PATH=f"{tmp_path},{tmp_path / 'missing'}",
        )
    )

    with pytest.raises(ConfigurationError, match="MESSAGE_TEMPLATE_PATH: entry 2 is not"):
        container.renderer()
