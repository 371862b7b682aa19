"""Settings: the one place that reads the environment.

``Settings.from_env()`` reads ``os.environ`` (or a given mapping) plus an optional ``.env`` file
(the real environment wins), and turns the variables named in ARCHITECTURE.md into a frozen,
typed ``Settings``. Nothing is read at import time.

Secrets (every variable whose name contains KEY, SECRET, PASSWORD or TOKEN, and the password part
of DATABASE_URL / CELERY_BROKER_URL) never appear in ``repr()``, in ``masked()`` or in an error
message.
"""

import enum
import functools
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

import attrs
import cattrs
from attrs import field, frozen
from dotenv import dotenv_values

from justdriving.domain.errors import ConfigurationError

__all__ = [
    "AccountingProvider",
    "AppEnv",
    "LogFormat",
    "LogLevel",
    "MailEncryption",
    "Mailer",
    "PaymentProvider",
    "QueueBackend",
    "Settings",
    "SmsProvider",
]


class AppEnv(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class PaymentProvider(enum.StrEnum):
    FAKE = "fake"
    STRIPE = "stripe"
    PAYPAL = "paypal"
    MANUAL = "manual"


class SmsProvider(enum.StrEnum):
    FAKE = "fake"
    LOG = "log"
    TWILIO = "twilio"
    GATEWAYAPI = "gatewayapi"


class Mailer(enum.StrEnum):
    LOG = "log"
    FAKE = "fake"
    SMTP = "smtp"
    SENDGRID = "sendgrid"
    MAILGUN = "mailgun"
    FILE = "file"  # a local inbox of .eml files (MAIL_INBOX_DIR), for development


class MailEncryption(enum.StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


class AccountingProvider(enum.StrEnum):
    NONE = "none"
    FAKE = "fake"
    CSV = "csv"
    XERO = "xero"
    QUICKBOOKS = "quickbooks"


class QueueBackend(enum.StrEnum):
    INLINE = "inline"
    WORKER = "worker"
    CELERY = "celery"


class LogFormat(enum.StrEnum):
    JSON = "json"
    CONSOLE = "console"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


# --------------------------------------------------------------------------------------------
# secrets: never shown


_SECRET_MARKERS: Final = ("KEY", "SECRET", "PASSWORD", "TOKEN")
_SHOWN_PREFIX: Final = 4
_MIN_LENGTH_TO_SHOW_PREFIX: Final = 24
# Encryption keys: any of their characters is key material, so none is shown.
_KEY_MATERIAL: Final = frozenset({"ACCOUNTING_TOKEN_KEY"})


def is_secret_name(name: str) -> bool:
    """Whether a variable (or field) name denotes a secret whose value must never be shown."""
    upper = name.upper()
    return any(marker in upper for marker in _SECRET_MARKERS)


def _mask_secret(name: str, value: str | None) -> str:
    """'unset', 'set', or for long API keys their first characters: 'sk_l… (32 chars)'.

    Passwords and short secrets only ever show as 'set'.
    """
    if value is None:
        return "unset"
    if (
        "PASSWORD" in name.upper()
        or name.upper() in _KEY_MATERIAL
        or len(value) < _MIN_LENGTH_TO_SHOW_PREFIX
    ):
        return "set"
    return f"{value[:_SHOWN_PREFIX]}… ({len(value)} chars)"


def _mask_url(url: str) -> str:
    """The URL with any password replaced by '***' (user, host and path are kept)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "set (unparseable URL)"
    if password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    userinfo = f"{parts.username}:***" if parts.username else ":***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _secret_repr(value: str | None) -> str:
    return "None" if value is None else "'***'"


def _url_repr(value: str | None) -> str:
    return "None" if value is None else repr(_mask_url(value))


def _secret(
    *,
    repr_: Callable[[str | None], str] = _secret_repr,
    validator: Callable[[Any, Any, str | None], None] | None = None,
) -> Any:
    return field(default=None, repr=repr_, validator=validator)


# --------------------------------------------------------------------------------------------
# validators (also run by from_env, per field, so every bad variable is reported at once)


def _between(low: int, high: int) -> Callable[[object, "attrs.Attribute[int]", int], None]:
    def check(_instance: object, _attribute: "attrs.Attribute[int]", value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")

    return check


def _positive_or_unset(
    _instance: object, _attribute: "attrs.Attribute[int | None]", value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValueError(
            "must be a whole number of messages per second, at least 1 (unset: no pacing)"
        )


# A Fernet key: 32 bytes in url-safe base64, as Fernet.generate_key() makes it.
_FERNET_KEY: Final = re.compile(r"[A-Za-z0-9_-]{43}=")


def _fernet_keys(
    _instance: object, _attribute: "attrs.Attribute[str | None]", value: str | None
) -> None:
    """One or more comma separated Fernet keys. The message never quotes a key."""
    if value is None:
        return
    keys = _split_list(value)
    if not keys:
        raise ValueError("must hold at least one Fernet key")
    for position, key in enumerate(keys, start=1):
        if not _FERNET_KEY.fullmatch(key):
            raise ValueError(
                f"key {position} of {len(keys)} is not a Fernet key (44 characters of url-safe "
                "base64, as cryptography's Fernet.generate_key() makes; see the README)"
            )


def _str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return _split_list(value)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    raise TypeError("must be a comma separated list")


@frozen(kw_only=True)
class Settings:
    """Every setting of justdriving. Field ``x_y`` is environment variable ``X_Y``."""

    app_env: AppEnv = AppEnv.DEVELOPMENT
    database_url: str | None = field(default=None, repr=_url_repr)
    public_base_url: str | None = None
    # Added by justdriving: Flask's debug mode (production refuses it), and the explicit
    # permission to run production on SQLite (one machine, on purpose).
    debug: bool = False
    allow_sqlite_in_production: bool = False

    payment_provider: PaymentProvider = PaymentProvider.FAKE
    payment_provider_key: str | None = _secret()
    payment_provider_secret: str | None = _secret()
    payment_webhook_secret: str | None = _secret()
    # The provider's API root: unset means its live API (PayPal: its sandbox outside
    # production). Tests point it at the simulators in justdriving.testing.
    payment_api_base_url: str | None = None

    sms_provider: SmsProvider = SmsProvider.FAKE
    sms_provider_key: str | None = _secret()
    sms_provider_secret: str | None = _secret()
    sms_from_number: str | None = None
    sms_enabled: bool = True
    sms_redirect_to: str | None = None
    sms_allowlist: tuple[str, ...] = field(default=(), converter=_str_tuple)
    # Added by justdriving: GatewayAPI's webhook signing secret, and the SMS provider's API
    # root (GatewayAPI's EU host, or a simulator in tests).
    sms_webhook_secret: str | None = _secret()
    sms_api_base_url: str | None = None
    # Added by justdriving: SMS sends per second per process (client-side pacing of the
    # relay); unset means no pacing.
    sms_rate_limit: int | None = field(default=None, validator=_positive_or_unset)

    mail_mailer: Mailer = Mailer.LOG
    mail_host: str | None = None
    mail_port: int = field(default=587, validator=_between(1, 65535))
    mail_username: str | None = None
    mail_password: str | None = _secret()
    mail_encryption: MailEncryption = MailEncryption.STARTTLS
    mail_api_key: str | None = _secret()
    mail_webhook_secret: str | None = _secret()
    mail_from_address: str | None = None
    mail_from_name: str | None = None
    mail_redirect_to: str | None = None
    mail_allowlist: tuple[str, ...] = field(default=(), converter=_str_tuple)
    # Added by justdriving (see the README): the provider's API root (Mailgun's EU or US
    # region, a simulator in tests), the Mailgun sending domain (default: the From address's
    # domain), the one-click unsubscribe URL for announcements, and the file inbox's folder.
    mail_api_base_url: str | None = None
    mail_domain: str | None = None
    mail_unsubscribe_url: str | None = None
    mail_inbox_dir: str = "mail-inbox"

    accounting_provider: AccountingProvider = AccountingProvider.NONE
    accounting_api_key: str | None = _secret()
    accounting_api_secret: str | None = _secret()
    accounting_sync_enabled: bool = False
    accounting_sync_interval: int = field(default=3600, validator=_between(1, 31 * 24 * 3600))
    accounting_export_dir: str | None = None
    # Added by justdriving: the organisation (Xero tenant id, QuickBooks realm id), and the
    # provider's API root and token URL (simulators in tests; unset: the live services).
    accounting_tenant_id: str | None = None
    accounting_payment_account: str | None = None  # Xero: the bank account payments go to
    accounting_api_base_url: str | None = None
    accounting_token_url: str | None = None
    # Added by justdriving: Fernet keys encrypting the stored OAuth tokens, comma separated;
    # the first encrypts, every one decrypts (rotation). Unset: tokens stored as they are.
    accounting_token_key: str | None = _secret(validator=_fernet_keys)

    queue_backend: QueueBackend = QueueBackend.WORKER
    celery_broker_url: str | None = field(default=None, repr=_url_repr)
    # Added by justdriving: how long a relay holds an outbox row it claimed. A row claimed by
    # a worker that died comes back after this; it must outlast the slowest provider call.
    relay_lease_seconds: int = field(default=120, validator=_between(1, 3600))

    ops_token: str | None = _secret()
    # Added by justdriving: how many reverse proxies (TLS terminators) stand in front of the
    # web app and set X-Forwarded-For/-Proto/-Host/-Port (werkzeug's ProxyFix trusts that
    # many hops); 0 trusts none. With it, a request that came in over HTTPS is secure, so
    # the ops page's cookie is `Secure`.
    trusted_proxy_hops: int = field(default=0, validator=_between(0, 5))
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: LogLevel = LogLevel.INFO

    # ----------------------------------------------------------------------------------------

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
    ) -> Self:
        """Build Settings from the environment (default ``os.environ``) and an optional .env file.

        Variables in ``environ`` win over the .env file; a missing .env file is not an error.
        Empty values count as unset. Unknown variables are ignored. Every invalid variable is
        reported in one ``ConfigurationError`` naming it (secret values are never echoed).
        """
        raw: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            raw.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        raw.update(os.environ if environ is None else environ)

        converter = _converter()
        values: dict[str, Any] = {}
        problems: list[str] = []
        for attribute in attrs.fields(cls):
            name = attribute.name.upper()
            text = raw.get(name, "").strip()
            if not text:
                continue
            try:
                value = converter.structure(text, attribute.type)
                if attribute.validator is not None:
                    attribute.validator(None, attribute, value)
            except (ValueError, TypeError) as error:
                problems.append(f"{name}: {_reason(name, text, error)}")
            else:
                values[attribute.name] = value
        if problems:
            count = f"{len(problems)} invalid variable{'s' if len(problems) > 1 else ''}"
            raise ConfigurationError(f"invalid configuration ({count})", problems=problems)
        return cls(**values)

    # ----------------------------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the SQLite file justdriving.db in the current working directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path.cwd() / 'justdriving.db'}"

    @property
    def accounting_token_keys(self) -> tuple[str, ...]:
        """ACCOUNTING_TOKEN_KEY's keys, the one that encrypts first; () when unset."""
        return _split_list(self.accounting_token_key or "")

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def production_problems(self) -> list[str]:
        """Every reason this configuration must not start, each naming its variable.

        In production: fake or log providers, missing secrets of the chosen providers, Stripe
        test-mode keys, staging redirects, a non-https PUBLIC_BASE_URL, DEBUG on, SQLite (unless
        ALLOW_SQLITE_IN_PRODUCTION). In staging: SMS and mail must be redirected or
        allow-listed. Elsewhere: nothing.
        """
        if self.app_env is AppEnv.PRODUCTION:
            return [
                *self._payment_problems(),
                *self._sms_problems(),
                *self._mail_problems(),
                *self._accounting_problems(),
                *self._platform_problems(),
            ]
        if self.app_env is AppEnv.STAGING:
            return self._staging_problems()
        return []

    def check(self) -> None:
        """Raise ConfigurationError listing every problem from ``production_problems()``."""
        problems = self.production_problems()
        if problems:
            raise ConfigurationError(
                f"configuration refused for APP_ENV={self.app_env}", problems=problems
            )

    def masked(self) -> dict[str, str]:
        """The effective configuration by variable name, safe to show: secrets are masked."""
        shown: dict[str, str] = {}
        for attribute in attrs.fields(type(self)):
            name = attribute.name.upper()
            value = getattr(self, attribute.name)
            if attribute.name == "database_url":
                value = self.effective_database_url
            if is_secret_name(name):
                shown[name] = _mask_secret(name, value)
            elif attribute.name in _URL_FIELDS:
                shown[name] = "unset" if value is None else _mask_url(value)
            elif value is None:
                shown[name] = "unset"
            elif isinstance(value, bool):
                shown[name] = "true" if value else "false"
            elif isinstance(value, tuple):
                shown[name] = ",".join(value) or "unset"
            else:
                shown[name] = str(value)
        return shown

    # ----------------------------------------------------------------------------------------

    def _payment_problems(self) -> list[str]:
        provider = self.payment_provider
        if provider is PaymentProvider.FAKE:
            return [_fake("PAYMENT_PROVIDER", provider, "stripe, paypal or manual")]
        problems: list[str] = []
        if provider is PaymentProvider.STRIPE:
            problems += _missing(
                PAYMENT_PROVIDER_SECRET=self.payment_provider_secret,
                PAYMENT_WEBHOOK_SECRET=self.payment_webhook_secret,
            )
            secret = self.payment_provider_secret or ""
            if secret.startswith(("sk_test_", "rk_test_")):
                problems.append("PAYMENT_PROVIDER_SECRET is a Stripe test-mode key")
            if (self.payment_provider_key or "").startswith("pk_test_"):
                problems.append("PAYMENT_PROVIDER_KEY is a Stripe test-mode publishable key")
        elif provider is PaymentProvider.PAYPAL:
            problems += _missing(
                PAYMENT_PROVIDER_KEY=self.payment_provider_key,
                PAYMENT_PROVIDER_SECRET=self.payment_provider_secret,
                PAYMENT_WEBHOOK_SECRET=self.payment_webhook_secret,
            )
        base = self.payment_api_base_url or ""
        if "sandbox" in base or base.startswith("http://"):
            problems.append("PAYMENT_API_BASE_URL points at a sandbox or simulator")
        return [f"{p} (PAYMENT_PROVIDER={provider})" for p in problems]

    def _sms_problems(self) -> list[str]:
        provider = self.sms_provider
        if provider in (SmsProvider.FAKE, SmsProvider.LOG):
            return [_fake("SMS_PROVIDER", provider, "twilio or gatewayapi")]
        problems: list[str] = []
        if provider is SmsProvider.TWILIO:
            problems += _missing(
                SMS_PROVIDER_KEY=self.sms_provider_key,
                SMS_PROVIDER_SECRET=self.sms_provider_secret,
                SMS_FROM_NUMBER=self.sms_from_number,
            )
        elif provider is SmsProvider.GATEWAYAPI:
            problems += _missing(
                SMS_PROVIDER_SECRET=self.sms_provider_secret,
                SMS_FROM_NUMBER=self.sms_from_number,
                SMS_WEBHOOK_SECRET=self.sms_webhook_secret,
            )
        return [f"{p} (SMS_PROVIDER={provider})" for p in problems]

    def _mail_problems(self) -> list[str]:
        mailer = self.mail_mailer
        if mailer in (Mailer.LOG, Mailer.FAKE):
            return [_fake("MAIL_MAILER", mailer, "smtp, sendgrid or mailgun")]
        if mailer is Mailer.FILE:
            return [_fake("MAIL_MAILER", mailer, "smtp, sendgrid or mailgun")]
        problems: list[str] = _missing(MAIL_FROM_ADDRESS=self.mail_from_address)
        if mailer is Mailer.SMTP:
            problems += _missing(MAIL_HOST=self.mail_host)
        elif mailer in (Mailer.SENDGRID, Mailer.MAILGUN):
            problems += _missing(
                MAIL_API_KEY=self.mail_api_key, MAIL_WEBHOOK_SECRET=self.mail_webhook_secret
            )
        return [f"{p} (MAIL_MAILER={mailer})" for p in problems]

    def _accounting_problems(self) -> list[str]:
        provider = self.accounting_provider
        if provider is AccountingProvider.FAKE:
            return [_fake("ACCOUNTING_PROVIDER", provider, "none, csv, xero or quickbooks")]
        problems: list[str] = []
        if provider in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
            problems += _missing(
                ACCOUNTING_API_KEY=self.accounting_api_key,
                ACCOUNTING_API_SECRET=self.accounting_api_secret,
                ACCOUNTING_TENANT_ID=self.accounting_tenant_id,
            )
            if provider is AccountingProvider.XERO:
                problems += _missing(ACCOUNTING_PAYMENT_ACCOUNT=self.accounting_payment_account)
            if not self.accounting_token_key:
                problems.append(
                    "ACCOUNTING_TOKEN_KEY is not set; production stores the OAuth tokens "
                    "encrypted (see the README)"
                )
        elif provider is AccountingProvider.CSV:
            problems += _missing(ACCOUNTING_EXPORT_DIR=self.accounting_export_dir)
        return [f"{p} (ACCOUNTING_PROVIDER={provider})" for p in problems]

    def _platform_problems(self) -> list[str]:
        problems: list[str] = []
        if self.sms_redirect_to:
            problems.append("SMS_REDIRECT_TO is set: a staging redirect must not reach production")
        if self.mail_redirect_to:
            problems.append("MAIL_REDIRECT_TO is set: a staging redirect must not reach production")
        if not self.public_base_url:
            problems.append("PUBLIC_BASE_URL is not set; production needs its https:// URL")
        elif not self.public_base_url.lower().startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be an https:// URL in production")
        if self.debug:
            problems.append("DEBUG is on; production must run with DEBUG=false")
        if not self.allow_sqlite_in_production:
            problems += self._sqlite_problems()
        if self.queue_backend is QueueBackend.CELERY and not self.celery_broker_url:
            problems.append("CELERY_BROKER_URL is not set (QUEUE_BACKEND=celery)")
        return problems

    def _sqlite_problems(self) -> list[str]:
        problems: list[str] = []
        if not self.database_url:
            problems.append(
                "DATABASE_URL is not set; production must not use the default SQLite file "
                "(or set ALLOW_SQLITE_IN_PRODUCTION=true)"
            )
        elif self.database_url.lower().startswith("sqlite"):
            problems.append(
                "DATABASE_URL points to SQLite; production needs PostgreSQL "
                "(or set ALLOW_SQLITE_IN_PRODUCTION=true)"
            )
        return problems

    def _staging_problems(self) -> list[str]:
        problems: list[str] = []
        if not (self.sms_redirect_to or self.sms_allowlist):
            problems.append(
                "SMS_REDIRECT_TO or SMS_ALLOWLIST must be set in staging "
                "so that no real customer receives a text message"
            )
        if not (self.mail_redirect_to or self.mail_allowlist):
            problems.append(
                "MAIL_REDIRECT_TO or MAIL_ALLOWLIST must be set in staging "
                "so that no real customer receives an email"
            )
        return problems


_URL_FIELDS: Final = frozenset({"database_url", "celery_broker_url"})


def _fake(name: str, value: enum.StrEnum, real: str) -> str:
    return f"{name} is {value!s}, which production refuses; choose {real}"


def _missing(**values: str | None) -> list[str]:
    return [f"{name} is not set" for name, value in values.items() if not value]


def _reason(name: str, text: str, error: Exception) -> str:
    """Why a variable was refused. The value itself is echoed only when it is not a secret
    (a secret's validator says what is wrong without quoting it)."""
    if is_secret_name(name):
        return str(error) or "invalid value"
    reason = str(error) or "invalid value"
    return f"{reason} (got {text!r})"


# --------------------------------------------------------------------------------------------
# parsing


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})

_E = TypeVar("_E", bound=enum.Enum)


def _structure_bool(value: object, _type: type[bool]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("must be one of 1/0, true/false, yes/no, on/off")


def _structure_int(value: object, _type: type[int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("must be a whole number")
    return int(text)


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _structure_str_tuple(value: object, _type: object) -> tuple[str, ...]:
    return _str_tuple(value)


def _structure_enum(value: object, enum_type: type[_E]) -> _E:
    if isinstance(value, enum_type):
        return value
    text = str(value).strip()
    for member in enum_type:
        if str(member.value).lower() == text.lower():
            return member
    choices = ", ".join(str(member.value) for member in enum_type)
    raise ValueError(f"must be one of {choices}")


_ENUMS: Final[tuple[type[enum.StrEnum], ...]] = (
    AppEnv,
    PaymentProvider,
    SmsProvider,
    Mailer,
    MailEncryption,
    AccountingProvider,
    QueueBackend,
    LogFormat,
    LogLevel,
)


@functools.cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook_func(
        lambda type_: type_ == tuple[str, ...], _structure_str_tuple
    )
    for enum_type in _ENUMS:
        converter.register_structure_hook(enum_type, _structure_enum)
    return converter
