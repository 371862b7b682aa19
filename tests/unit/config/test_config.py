"""Settings: parsing the environment, refusing bad production/staging setups, hiding secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.config import (
    AccountingProvider,
    AppEnv,
    LogFormat,
    LogLevel,
    MailEncryption,
    Mailer,
    PaymentProvider,
    QueueBackend,
    Settings,
    SmsProvider,
)
from justdriving.domain.errors import ConfigurationError

SECRET_VARIABLES = (
    "PAYMENT_PROVIDER_KEY",
    "PAYMENT_PROVIDER_SECRET",
    "PAYMENT_WEBHOOK_SECRET",
    "SMS_PROVIDER_KEY",
    "SMS_PROVIDER_SECRET",
    "MAIL_PASSWORD",
    "MAIL_API_KEY",
    "MAIL_WEBHOOK_SECRET",
    "ACCOUNTING_API_KEY",
    "ACCOUNTING_API_SECRET",
    "OPS_TOKEN",
)

# A production configuration with nothing wrong; each refusal test breaks one thing.
GOOD_PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://justdriving:db-pass-123@db.internal:5432/justdriving",
    "PUBLIC_BASE_URL": "https://booking.example.dk",
    "PAYMENT_PROVIDER": "stripe",
    "PAYMENT_PROVIDER_KEY": "pk_live_51Hxyz",
    "PAYMENT_PROVIDER_SECRET": "sk_live_51Hxyzabcdefghijklmnopqrstuvwxyz",
    "PAYMENT_WEBHOOK_SECRET": "whsec_abcdefghijklmnopqrstuvwxyz",
    "SMS_PROVIDER": "twilio",
    "SMS_PROVIDER_KEY": "AC0123456789abcdef0123456789abcdef",
    "SMS_PROVIDER_SECRET": "twilio-auth-token-0123456789",
    "SMS_FROM_NUMBER": "+4512345678",
    "MAIL_MAILER": "smtp",
    "MAIL_HOST": "smtp.example.dk",
    "MAIL_USERNAME": "postmaster",
    "MAIL_PASSWORD": "smtp-password-xyz",
    "MAIL_FROM_ADDRESS": "kontor@example.dk",
    "MAIL_WEBHOOK_SECRET": "mail-webhook-key-0123456789",
    "ACCOUNTING_PROVIDER": "none",
    "PAY_LINK_SECRET": "Pl5Kx8Qw2Zr7Mn4Vb9Hj3Gf6Dc1Sa0Ty",
}

# Fernet keys (44 characters of url-safe base64), fixed and public: tests only.
TOKEN_KEY = "x3Fq0cZ7d9yJ1aVbKpLw8nT2rS5uE6hG4iO0mN3kQ1c="
OLD_TOKEN_KEY = "0Zq9aWk3c2VjcmV0LWtleS1vZi0zMi1ieXRlcy0tLS0="
XERO: dict[str, str | None] = {
    "ACCOUNTING_PROVIDER": "xero",
    "ACCOUNTING_API_KEY": "xero-client-id",
    "ACCOUNTING_API_SECRET": "xero-client-secret",
    "ACCOUNTING_TENANT_ID": "tenant-1",
    "ACCOUNTING_PAYMENT_ACCOUNT": "090",
    "ACCOUNTING_TOKEN_KEY": TOKEN_KEY,
}
QUICKBOOKS: dict[str, str | None] = {
    "ACCOUNTING_PROVIDER": "quickbooks",
    "ACCOUNTING_API_KEY": "qb-client-id",
    "ACCOUNTING_API_SECRET": "qb-client-secret",
    "ACCOUNTING_TENANT_ID": "9130350000000000",
    "ACCOUNTING_TOKEN_KEY": TOKEN_KEY,
}


def settings(env: dict[str, str] | None = None) -> Settings:
    return Settings.from_env(env or {}, env_file=None)


def production(**changes: str | None) -> Settings:
    env = dict(GOOD_PRODUCTION)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return settings(env)


# ------------------------------------------------------------------------------------------
# defaults and parsing


def test_defaults_work_with_nothing_configured() -> None:
    s = settings()

    assert s == Settings()
    assert s.app_env is AppEnv.DEVELOPMENT
    assert s.database_url is None
    assert s.payment_provider is PaymentProvider.FAKE
    assert s.sms_provider is SmsProvider.FAKE
    assert s.sms_enabled is True
    assert s.sms_allowlist == ()
    assert s.mail_mailer is Mailer.LOG
    assert s.mail_port == 587
    assert s.mail_encryption is MailEncryption.STARTTLS
    assert s.accounting_provider is AccountingProvider.NONE
    assert s.accounting_sync_enabled is False
    assert s.accounting_sync_interval == 3600
    assert s.queue_backend is QueueBackend.WORKER
    assert s.log_format is LogFormat.CONSOLE
    assert s.log_level is LogLevel.INFO


def test_every_variable_of_the_architecture_is_a_field() -> None:
    documented = {
        "APP_ENV", "DATABASE_URL", "PUBLIC_BASE_URL",
        "PAYMENT_PROVIDER", "PAYMENT_PROVIDER_KEY", "PAYMENT_PROVIDER_SECRET",
        "PAYMENT_WEBHOOK_SECRET",
        "SMS_PROVIDER", "SMS_PROVIDER_KEY", "SMS_PROVIDER_SECRET", "SMS_FROM_NUMBER",
        "SMS_ENABLED", "SMS_REDIRECT_TO", "SMS_ALLOWLIST",
        "MAIL_MAILER", "MAIL_HOST", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD",
        "MAIL_ENCRYPTION", "MAIL_API_KEY", "MAIL_WEBHOOK_SECRET", "MAIL_FROM_ADDRESS",
        "MAIL_FROM_NAME", "MAIL_REDIRECT_TO", "MAIL_ALLOWLIST",
        "ACCOUNTING_PROVIDER", "ACCOUNTING_API_KEY", "ACCOUNTING_API_SECRET",
        "ACCOUNTING_SYNC_ENABLED", "ACCOUNTING_SYNC_INTERVAL", "ACCOUNTING_EXPORT_DIR",
        "QUEUE_BACKEND", "CELERY_BROKER_URL", "OPS_TOKEN", "LOG_FORMAT", "LOG_LEVEL",
    }  # fmt: skip
    added = {  # added by justdriving, in the README's table
        "PAYMENT_API_BASE_URL",
        "STRIPE_CONNECT",
        "STRIPE_CONNECT_WEBHOOK_SECRET",
        "MAIL_API_BASE_URL",
        "MAIL_DOMAIN",
        "MAIL_UNSUBSCRIBE_URL",
        "MAIL_INBOX_DIR",
        "MESSAGE_TEMPLATE_PATH",
        "SMS_WEBHOOK_SECRET",
        "SMS_API_BASE_URL",
        "SMS_RATE_LIMIT",
        "SMS_RATE_LIMIT_STORAGE",
        "RELAY_LEASE_SECONDS",
        "RELAY_IN_FLIGHT",
        "ACCOUNTING_TENANT_ID",
        "ACCOUNTING_API_BASE_URL",
        "ACCOUNTING_TOKEN_URL",
        "ACCOUNTING_PAYMENT_ACCOUNT",
        "ACCOUNTING_TOKEN_KEY",
        "DEBUG",
        "ALLOW_SQLITE_IN_PRODUCTION",
        "HOST_WEBHOOK_URL",
        "HOST_WEBHOOK_SECRET",
        "HOST_WEBHOOK_TOPICS",
        "API_TOKEN",
        "RETURN_URL_HOSTS",
        "TRUSTED_PROXY_HOPS",
        "PAY_LINK_SECRET",
        "PAY_LINK_DAYS",
        "SMS_FALLBACK_PROVIDER",
        "SMS_FALLBACK_KEY",
        "SMS_FALLBACK_SECRET",
        "SMS_FALLBACK_FROM_NUMBER",
        "SMS_FALLBACK_WEBHOOK_SECRET",
        "SMS_FALLBACK_API_BASE_URL",
        "STAFF_ALERT_EMAIL",
        "MOBILEPAY_CLIENT_ID",
        "MOBILEPAY_CLIENT_SECRET",
        "MOBILEPAY_SUBSCRIPTION_KEY",
        "MOBILEPAY_MERCHANT_SERIAL_NUMBER",
        "MOBILEPAY_WEBHOOK_SECRET",
        "MOBILEPAY_API_BASE",
    }

    assert {a.name.upper() for a in attrs.fields(Settings)} == documented | added
    assert set(settings().masked()) == documented | added
    assert set(SECRET_VARIABLES) < documented


def test_effective_database_url_is_sqlite_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    url = settings().effective_database_url

    assert url == f"sqlite:///{tmp_path / 'justdriving.db'}"
    assert Path(url.removeprefix("sqlite:///")).is_absolute()
    assert settings({"DATABASE_URL": "postgresql://h/db"}).effective_database_url == (
        "postgresql://h/db"
    )


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "Yes", "on", " on "])
def test_true_booleans(text: str) -> None:
    assert settings({"ACCOUNTING_SYNC_ENABLED": text}).accounting_sync_enabled is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "NO", "off"])
def test_false_booleans(text: str) -> None:
    assert settings({"SMS_ENABLED": text}).sms_enabled is False


def test_integers_and_lists_and_choices() -> None:
    s = settings(
        {
            "MAIL_PORT": "2525",
            "ACCOUNTING_SYNC_INTERVAL": "60",
            "SMS_ALLOWLIST": "+4511111111, +4522222222,,",
            "MAIL_ALLOWLIST": "a@example.dk",
            "APP_ENV": "Staging",
            "MAIL_ENCRYPTION": "ssl",
            "QUEUE_BACKEND": "celery",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",
        }
    )

    assert s.mail_port == 2525
    assert s.accounting_sync_interval == 60
    assert s.sms_allowlist == ("+4511111111", "+4522222222")
    assert s.mail_allowlist == ("a@example.dk",)
    assert s.app_env is AppEnv.STAGING
    assert s.mail_encryption is MailEncryption.SSL
    assert s.queue_backend is QueueBackend.CELERY
    assert s.log_format is LogFormat.JSON
    assert s.log_level is LogLevel.DEBUG


def test_empty_values_count_as_unset_and_unknown_variables_are_ignored() -> None:
    s = settings({"MAIL_PORT": "", "SMS_REDIRECT_TO": "  ", "SOMETHING_ELSE": "x", "PATH": "/"})

    assert s.mail_port == 587
    assert s.sms_redirect_to is None


def test_env_file_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local settings\n"
        "MAIL_MAILER=smtp\n"
        "MAIL_HOST=localhost\n"
        "MAIL_PORT=1025\n"
        'SMS_ALLOWLIST="+4511111111,+4522222222"\n'
        "EMPTY_WITHOUT_VALUE\n",
        encoding="utf-8",
    )

    s = Settings.from_env({"MAIL_PORT": "2525"}, env_file=env_file)

    assert s.mail_mailer is Mailer.SMTP
    assert s.mail_host == "localhost"
    assert s.mail_port == 2525
    assert s.sms_allowlist == ("+4511111111", "+4522222222")


def test_a_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert Settings.from_env({}, env_file=tmp_path / "nope.env") == Settings()


def test_default_env_file_is_dot_env_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LOG_FORMAT=json\n", encoding="utf-8")

    assert Settings.from_env({}).log_format is LogFormat.JSON


def test_os_environ_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_TOKEN", "from-os-environ")

    assert Settings.from_env(env_file=None).ops_token == "from-os-environ"


def test_one_error_names_every_bad_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings(
            {
                "APP_ENV": "prod",
                "MAIL_PORT": "smtp",
                "SMS_ENABLED": "maybe",
                "ACCOUNTING_SYNC_INTERVAL": "0",
                "PAYMENT_PROVIDER": "bitcoin",
                "LOG_LEVEL": "loud",
            }
        )

    error = caught.value
    bad = ["APP_ENV", "MAIL_PORT", "SMS_ENABLED", "ACCOUNTING_SYNC_INTERVAL", "PAYMENT_PROVIDER"]
    bad.append("LOG_LEVEL")
    assert len(error.problems) == len(bad)
    for name in bad:
        assert any(problem.startswith(f"{name}:") for problem in error.problems), name
        assert name in str(error)
    assert "must be one of fake, stripe, paypal, manual" in str(error)


def test_mail_port_out_of_range() -> None:
    with pytest.raises(ConfigurationError, match="MAIL_PORT"):
        settings({"MAIL_PORT": "70000"})


def test_relay_lease_is_two_minutes_unless_set() -> None:
    assert settings().relay_lease_seconds == 120
    assert settings({"RELAY_LEASE_SECONDS": "5"}).relay_lease_seconds == 5


@pytest.mark.parametrize("text", ["0", "-1", "3601", "2.5", "soon"])
def test_relay_lease_refuses_what_is_not_1_to_3600_seconds(text: str) -> None:
    with pytest.raises(ConfigurationError, match="RELAY_LEASE_SECONDS"):
        settings({"RELAY_LEASE_SECONDS": text})


def test_the_relay_works_one_row_at_a_time_unless_told() -> None:
    assert settings().relay_in_flight == 1
    assert settings({"RELAY_IN_FLIGHT": "16"}).relay_in_flight == 16
    assert settings({"RELAY_IN_FLIGHT": "256"}).relay_in_flight == 256


@pytest.mark.parametrize("text", ["0", "-3", "257", "1.5", "many"])
def test_relay_in_flight_refuses_what_is_not_1_to_256(text: str) -> None:
    with pytest.raises(ConfigurationError, match="RELAY_IN_FLIGHT"):
        settings({"RELAY_IN_FLIGHT": text})


def test_a_shared_sms_rate_limit_is_counted_in_redis_and_needs_the_limit() -> None:
    shared = settings({"SMS_RATE_LIMIT": "9", "SMS_RATE_LIMIT_STORAGE": "redis://:pw@r:6379/2"})
    assert shared.sms_rate_limit_storage == "redis://:pw@r:6379/2"
    assert "pw" not in repr(shared)
    assert shared.production_problems() == []
    alone = settings({"SMS_RATE_LIMIT_STORAGE": "redis://r:6379/2"})
    assert alone.production_problems() == [
        "SMS_RATE_LIMIT_STORAGE is set without SMS_RATE_LIMIT: there is no limit to share"
    ]
    with pytest.raises(ConfigurationError, match="SMS_RATE_LIMIT_STORAGE"):
        settings({"SMS_RATE_LIMIT_STORAGE": "memcached://r:11211"})


def test_sms_rate_limit_is_unset_by_default_so_nothing_is_paced() -> None:
    assert settings().sms_rate_limit is None
    assert settings().masked()["SMS_RATE_LIMIT"] == "unset"


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("100", 100), (" 25 ", 25)])
def test_sms_rate_limit_is_a_number_of_messages_per_second(text: str, expected: int) -> None:
    assert settings({"SMS_RATE_LIMIT": text}).sms_rate_limit == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "at least 1"),
        ("-5", "at least 1"),
        ("2.5", "whole number"),
        ("100/s", "whole number"),
        ("fast", "whole number"),
    ],
)
def test_sms_rate_limit_refuses_what_is_not_a_positive_whole_number(text: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings({"SMS_RATE_LIMIT": text})
    [problem] = refused.value.problems
    assert problem.startswith("SMS_RATE_LIMIT:")
    assert reason in problem
    assert repr(text) in problem


def test_settings_are_frozen() -> None:
    s = settings()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.app_env = AppEnv.PRODUCTION  # type: ignore[misc]


def test_nothing_is_read_at_import_time() -> None:
    env = {**os.environ, "MAIL_PORT": "not-a-number", "APP_ENV": "nonsense"}
    result = subprocess.run(
        [sys.executable, "-c", "import justdriving.config"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------
# secrets


secret_text = st.text(
    alphabet=st.characters(categories=("L", "N"), include_characters="_-./+=", max_codepoint=0x7F),
    min_size=1,
    max_size=60,
).map(lambda text: f"Zq9{text}")  # the prefix keeps it from matching ordinary output


@given(secret=secret_text, variable=st.sampled_from(SECRET_VARIABLES))
def test_secrets_never_appear_in_repr_masked_or_errors(secret: str, variable: str) -> None:
    env = {variable: secret, "APP_ENV": "production"}
    s = settings(env)
    shown = [repr(s), str(s), str(s.masked()), *s.production_problems()]
    with pytest.raises(ConfigurationError) as refused:
        s.check()
    with pytest.raises(ConfigurationError) as invalid:
        settings({**env, "MAIL_PORT": "x", "SMS_ENABLED": "perhaps"})
    shown += [str(refused.value), str(invalid.value), *invalid.value.problems]

    for text in shown:
        assert secret not in text


def test_masked_shows_set_or_unset_and_not_one_character_of_a_secret() -> None:
    masked = production().masked()

    assert masked["PAYMENT_PROVIDER_SECRET"] == "set"
    assert masked["MAIL_PASSWORD"] == "set"
    assert masked["SMS_PROVIDER_SECRET"] == "set"
    assert masked["PAYMENT_PROVIDER_KEY"] == "set"
    assert masked["ACCOUNTING_API_KEY"] == "unset"
    assert masked["OPS_TOKEN"] == "unset"
    assert masked["PAYMENT_PROVIDER"] == "stripe"
    assert masked["SMS_ENABLED"] == "true"
    assert masked["MAIL_PORT"] == "587"


def test_passwords_in_urls_are_masked() -> None:
    s = settings(
        {
            "DATABASE_URL": "postgresql://app:db-pass-123@db:5432/app",
            "CELERY_BROKER_URL": "redis://:broker-pass-456@redis:6379/0",
        }
    )

    for text in (repr(s), str(s.masked())):
        assert "db-pass-123" not in text
        assert "broker-pass-456" not in text
    assert s.masked()["DATABASE_URL"] == "postgresql://app:***@db:5432/app"
    assert s.masked()["CELERY_BROKER_URL"] == "redis://:***@redis:6379/0"
    assert s.database_url == "postgresql://app:db-pass-123@db:5432/app"


# ------------------------------------------------------------------------------------------
# production refuses to start, naming the setting


def test_a_complete_production_configuration_passes() -> None:
    s = production()

    assert s.production_problems() == []
    s.check()


def test_production_with_nothing_configured_lists_every_problem() -> None:
    problems = settings({"APP_ENV": "production"}).production_problems()

    for name in ("PAYMENT_PROVIDER", "SMS_PROVIDER", "MAIL_MAILER", "PUBLIC_BASE_URL"):
        assert any(name in problem for problem in problems), name
    assert any("DATABASE_URL" in problem for problem in problems)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"PAYMENT_PROVIDER": "fake"}, "PAYMENT_PROVIDER"),
        ({"SMS_PROVIDER": "fake"}, "SMS_PROVIDER"),
        ({"SMS_PROVIDER": "log"}, "SMS_PROVIDER"),
        ({"MAIL_MAILER": "log"}, "MAIL_MAILER"),
        ({"MAIL_MAILER": "fake"}, "MAIL_MAILER"),
        ({"ACCOUNTING_PROVIDER": "fake"}, "ACCOUNTING_PROVIDER"),
        # missing secrets of the chosen provider
        ({"PAYMENT_PROVIDER_SECRET": None}, "PAYMENT_PROVIDER_SECRET"),
        ({"PAYMENT_WEBHOOK_SECRET": None}, "PAYMENT_WEBHOOK_SECRET"),
        ({"PAYMENT_PROVIDER": "paypal", "PAYMENT_PROVIDER_KEY": None}, "PAYMENT_PROVIDER_KEY"),
        (
            {"PAYMENT_PROVIDER": "paypal", "PAYMENT_PROVIDER_SECRET": None},
            "PAYMENT_PROVIDER_SECRET",
        ),
        ({"PAYMENT_PROVIDER": "paypal", "PAYMENT_WEBHOOK_SECRET": None}, "PAYMENT_WEBHOOK_SECRET"),
        ({"SMS_PROVIDER_KEY": None}, "SMS_PROVIDER_KEY"),
        ({"SMS_PROVIDER_SECRET": None}, "SMS_PROVIDER_SECRET"),
        ({"SMS_FROM_NUMBER": None}, "SMS_FROM_NUMBER"),
        (
            {"SMS_PROVIDER": "gatewayapi", "SMS_WEBHOOK_SECRET": "x", "SMS_PROVIDER_SECRET": None},
            "SMS_PROVIDER_SECRET",
        ),
        ({"MAIL_HOST": None}, "MAIL_HOST"),
        ({"MAIL_MAILER": "sendgrid"}, "MAIL_API_KEY"),
        ({"MAIL_MAILER": "mailgun"}, "MAIL_API_KEY"),
        (
            {
                "ACCOUNTING_PROVIDER": "xero",
                "ACCOUNTING_API_SECRET": "s",
                "ACCOUNTING_TENANT_ID": "t",
                "ACCOUNTING_PAYMENT_ACCOUNT": "090",
                "ACCOUNTING_TOKEN_KEY": TOKEN_KEY,
            },
            "ACCOUNTING_API_KEY",
        ),
        (
            {
                "ACCOUNTING_PROVIDER": "quickbooks",
                "ACCOUNTING_API_KEY": "k",
                "ACCOUNTING_TENANT_ID": "t",
                "ACCOUNTING_TOKEN_KEY": TOKEN_KEY,
            },
            "ACCOUNTING_API_SECRET",
        ),
        ({"ACCOUNTING_PROVIDER": "csv"}, "ACCOUNTING_EXPORT_DIR"),
        ({**XERO, "ACCOUNTING_TOKEN_KEY": None}, "ACCOUNTING_TOKEN_KEY"),
        ({**QUICKBOOKS, "ACCOUNTING_TOKEN_KEY": None}, "ACCOUNTING_TOKEN_KEY"),
        ({"QUEUE_BACKEND": "celery"}, "CELERY_BROKER_URL"),
        # test-mode keys
        ({"PAYMENT_PROVIDER_SECRET": "sk_test_51Habcdefghijklmnop"}, "PAYMENT_PROVIDER_SECRET"),
        ({"PAYMENT_PROVIDER_SECRET": "rk_test_51Habcdefghijklmnop"}, "PAYMENT_PROVIDER_SECRET"),
        ({"PAYMENT_PROVIDER_KEY": "pk_test_51Habcdefghijklmnop"}, "PAYMENT_PROVIDER_KEY"),
        # staging leftovers
        ({"SMS_REDIRECT_TO": "+4599999999"}, "SMS_REDIRECT_TO"),
        (
            {
                "SMS_FALLBACK_PROVIDER": "twilio",
                "SMS_FALLBACK_KEY": "AC" + "1" * 32,
                "SMS_FALLBACK_SECRET": "second-twilio-token",
                "SMS_FALLBACK_FROM_NUMBER": "+4512345679",
            },
            "SMS_FALLBACK_PROVIDER",
        ),
        ({"SMS_FALLBACK_PROVIDER": "log"}, "SMS_FALLBACK_PROVIDER=log"),
        (
            {
                "SMS_FALLBACK_PROVIDER": "gatewayapi",
                "SMS_FALLBACK_FROM_NUMBER": "Koereskole",
                "SMS_FALLBACK_WEBHOOK_SECRET": "gw-webhook-secret",
            },
            "SMS_FALLBACK_SECRET",
        ),
        ({"MAIL_REDIRECT_TO": "qa@example.dk"}, "MAIL_REDIRECT_TO"),
        # platform
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://booking.example.dk"}, "PUBLIC_BASE_URL"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////srv/justdriving.db"}, "DATABASE_URL"),
        ({"DEBUG": "true"}, "DEBUG"),
    ],
)
def test_production_refuses_and_names_the_setting(
    changes: dict[str, str | None], variable: str
) -> None:
    s = production(**changes)

    problems = s.production_problems()

    assert len(problems) == 1, problems
    assert variable in problems[0]
    with pytest.raises(ConfigurationError) as caught:
        s.check()
    assert caught.value.problems == (problems[0],)
    assert variable in str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"PAYMENT_PROVIDER": "manual", "PAYMENT_PROVIDER_SECRET": None},
        {"ACCOUNTING_PROVIDER": "csv", "ACCOUNTING_EXPORT_DIR": "/srv/exports"},
        XERO,
        QUICKBOOKS,
        # books per school: no platform-wide organisation, each school connects its own
        {**XERO, "ACCOUNTING_TENANT_ID": None},
        {**QUICKBOOKS, "ACCOUNTING_TENANT_ID": None},
        {"SMS_PROVIDER": "gatewayapi", "SMS_PROVIDER_KEY": None, "SMS_WEBHOOK_SECRET": "gw-secret"},
        {"MAIL_MAILER": "sendgrid", "MAIL_API_KEY": "SG.abcdef", "MAIL_HOST": None},
        {"SMS_ENABLED": "false"},
        {"DEBUG": "false"},
        {"DATABASE_URL": "sqlite:////srv/justdriving.db", "ALLOW_SQLITE_IN_PRODUCTION": "true"},
        {"DATABASE_URL": None, "ALLOW_SQLITE_IN_PRODUCTION": "true"},
    ],
)
def test_other_complete_production_configurations_pass(changes: dict[str, str | None]) -> None:
    assert production(**changes).production_problems() == []


def test_the_token_key_is_optional_outside_production_and_unset_by_default() -> None:
    s = settings({"ACCOUNTING_PROVIDER": "xero"})

    assert s.accounting_token_key is None
    assert s.accounting_token_keys == ()
    assert s.production_problems() == []
    assert s.masked()["ACCOUNTING_TOKEN_KEY"] == "unset"


def test_the_token_key_takes_several_keys_the_first_one_encrypting() -> None:
    s = settings({"ACCOUNTING_TOKEN_KEY": f" {TOKEN_KEY} , {OLD_TOKEN_KEY} "})

    assert s.accounting_token_keys == (TOKEN_KEY, OLD_TOKEN_KEY)


def test_the_token_key_is_a_secret_never_shown_not_even_its_first_characters() -> None:
    s = settings({"ACCOUNTING_TOKEN_KEY": f"{TOKEN_KEY},{OLD_TOKEN_KEY}"})

    assert s.masked()["ACCOUNTING_TOKEN_KEY"] == "set"
    for text in (repr(s), str(s.masked())):
        assert TOKEN_KEY[:4] not in text
        assert OLD_TOKEN_KEY[:4] not in text


@pytest.mark.parametrize(
    "value",
    [
        "Zq9-not-a-fernet-key",
        f"{TOKEN_KEY},Zq9-not-a-fernet-key",
        "Zq9" + TOKEN_KEY[3:-1],  # 43 characters: one short
        "Zq9" + TOKEN_KEY[3:-2] + "+/",  # standard base64, not url-safe
        ",",
    ],
)
def test_a_malformed_token_key_is_refused_saying_why_without_showing_it(value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings({"ACCOUNTING_TOKEN_KEY": value})

    message = str(refused.value)
    assert "ACCOUNTING_TOKEN_KEY" in message
    assert "Fernet key" in message
    assert "Zq9" not in message
    assert TOKEN_KEY not in message


def test_debug_and_allow_sqlite_default_to_false() -> None:
    s = settings()

    assert s.debug is False
    assert s.allow_sqlite_in_production is False
    assert s.masked()["DEBUG"] == "false"


def test_the_sqlite_refusal_names_the_setting_that_allows_it() -> None:
    (problem,) = production(DATABASE_URL="sqlite:///x.db").production_problems()

    assert "ALLOW_SQLITE_IN_PRODUCTION" in problem


def test_allow_sqlite_does_not_excuse_debug() -> None:
    s = production(ALLOW_SQLITE_IN_PRODUCTION="true", DATABASE_URL=None, DEBUG="1")

    assert [p for p in s.production_problems() if "DEBUG" in p] == s.production_problems()
    assert len(s.production_problems()) == 1


def test_every_production_problem_names_a_variable() -> None:
    names = {a.name.upper() for a in attrs.fields(Settings)}
    bad = settings(
        {
            "APP_ENV": "production",
            "PAYMENT_PROVIDER": "stripe",
            "PAYMENT_PROVIDER_KEY": "pk_test_x",
            "SMS_PROVIDER": "twilio",
            "MAIL_MAILER": "mailgun",
            "ACCOUNTING_PROVIDER": "xero",
            "SMS_REDIRECT_TO": "+4512345678",
            "MAIL_REDIRECT_TO": "qa@example.dk",
            "PUBLIC_BASE_URL": "http://x",
            "DATABASE_URL": "sqlite:///x.db",
            "QUEUE_BACKEND": "celery",
        }
    )

    problems = bad.production_problems()

    assert len(problems) >= 13
    for problem in problems:
        assert any(name in problem for name in names), problem


# ------------------------------------------------------------------------------------------
# staging, development, test


def test_staging_requires_sms_and_mail_redirect_or_allowlist() -> None:
    problems = settings({"APP_ENV": "staging"}).production_problems()

    assert len(problems) == 2
    assert "SMS_REDIRECT_TO" in problems[0]
    assert "SMS_ALLOWLIST" in problems[0]
    assert "MAIL_REDIRECT_TO" in problems[1]
    assert "MAIL_ALLOWLIST" in problems[1]
    with pytest.raises(ConfigurationError):
        settings({"APP_ENV": "staging"}).check()


@pytest.mark.parametrize(
    "env",
    [
        {"SMS_REDIRECT_TO": "+4512345678", "MAIL_REDIRECT_TO": "qa@example.dk"},
        {"SMS_ALLOWLIST": "+4512345678", "MAIL_ALLOWLIST": "qa@example.dk,dev@example.dk"},
        {"SMS_REDIRECT_TO": "+4512345678", "MAIL_ALLOWLIST": "qa@example.dk"},
    ],
)
def test_staging_with_redirects_or_allowlists_passes(env: dict[str, str]) -> None:
    s = settings({"APP_ENV": "staging", **env})

    assert s.production_problems() == []
    s.check()


def test_staging_with_only_sms_redirected_still_names_mail() -> None:
    s = settings({"APP_ENV": "staging", "SMS_REDIRECT_TO": "+4512345678"})
    assert [p.split()[0] for p in s.production_problems()] == ["MAIL_REDIRECT_TO"]


@pytest.mark.parametrize("app_env", ["development", "test"])
def test_development_and_test_have_no_problems(app_env: str) -> None:
    s = settings(
        {
            "APP_ENV": app_env,
            "PAYMENT_PROVIDER": "stripe",
            "PAYMENT_PROVIDER_SECRET": "sk_test_123",
            "SMS_REDIRECT_TO": "+4512345678",
        }
    )

    assert s.production_problems() == []
    s.check()


def test_a_staff_alert_address_that_is_not_one_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="STAFF_ALERT_EMAIL"):
        Settings.from_env({"STAFF_ALERT_EMAIL": "drift-at-example"}, env_file=None)
    good = Settings.from_env({"STAFF_ALERT_EMAIL": "drift@example.dk"}, env_file=None)
    assert good.staff_alert_email == "drift@example.dk"
