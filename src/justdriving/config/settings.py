"""Settings: every group of settings in one frozen object, read from the environment.

``Settings.from_env()`` reads ``os.environ`` (or a given mapping) plus an optional ``.env`` file
(the real environment wins) and turns the variables named in ARCHITECTURE.md into a frozen,
typed ``Settings``. Nothing is read at import time. Field ``x_y`` is variable ``X_Y``; each
group (platform, payments, sms, mail, accounting, queue, host events, logging) owns its
fields, their validation and their production rules in a module of its own.
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Self, TypeVar

import attrs
import cattrs
from attrs import frozen
from dotenv import dotenv_values

from justdriving.config.accounting import AccountingProvider, AccountingSettings
from justdriving.config.fields import is_secret_name, mask_secret, mask_url, str_tuple
from justdriving.config.host_events import HostEventSettings
from justdriving.config.log_output import LogFormat, LoggingSettings, LogLevel
from justdriving.config.mail import MailEncryption, Mailer, MailSettings
from justdriving.config.payments import PaymentProvider, PaymentSettings
from justdriving.config.platform import AppEnv, PlatformSettings
from justdriving.config.queue import QueueBackend, QueueSettings
from justdriving.config.sms import SmsProvider, SmsSettings
from justdriving.domain.errors import ConfigurationError


@frozen(kw_only=True, slots=False)
class Settings(
    PlatformSettings,
    PaymentSettings,
    SmsSettings,
    MailSettings,
    AccountingSettings,
    QueueSettings,
    HostEventSettings,
    LoggingSettings,
):
    """Every setting of justdriving; each group's fields are read as ``settings.<field>``."""

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

    def production_problems(self) -> list[str]:
        """Every reason this configuration must not start, each naming its variable.

        In production: each group's rules (fake or log providers, missing secrets, Stripe
        test-mode keys, sandboxes, plain-http URLs, staging redirects, a weak OPS_TOKEN,
        DEBUG on, SQLite unless ALLOW_SQLITE_IN_PRODUCTION, …). In staging: SMS and mail must
        be redirected or allow-listed. Elsewhere: nothing.
        """
        everywhere = self.sms_fallback_problems()
        if self.app_env is AppEnv.PRODUCTION:
            return [
                *everywhere,
                *self.payments_in_production(),
                *self.sms_in_production(),
                *self.mail_in_production(),
                *self.accounting_in_production(),
                *self.platform_in_production(),
                *self.queue_in_production(),
                *self.host_events_in_production(),
            ]
        if self.app_env is AppEnv.STAGING:
            return [*everywhere, *self.sms_in_staging(), *self.mail_in_staging()]
        return everywhere

    def check(self) -> None:
        """Raise ConfigurationError listing every problem from ``production_problems()``."""
        problems = self.production_problems()
        if problems:
            raise ConfigurationError(
                f"configuration refused for APP_ENV={self.app_env}", problems=problems
            )

    def masked(self) -> dict[str, str]:
        """The effective configuration by variable name, safe to show: a secret is 'set' or
        'unset' (not one of its characters), a password in a URL is '***'."""
        shown: dict[str, str] = {}
        for attribute in attrs.fields(type(self)):
            name = attribute.name.upper()
            value = getattr(self, attribute.name)
            if attribute.name == "database_url":
                value = self.effective_database_url
            if is_secret_name(name):
                shown[name] = mask_secret(value)
            elif value is None:
                shown[name] = "unset"
            elif name.endswith("_URL"):
                shown[name] = mask_url(value)
            elif isinstance(value, bool):
                shown[name] = "true" if value else "false"
            elif isinstance(value, tuple):
                shown[name] = ",".join(value) or "unset"
            else:
                shown[name] = str(value)
        return shown


def _reason(name: str, text: str, error: Exception) -> str:
    """Why a variable was refused. The value itself is echoed only when it is not a secret
    (a secret's validator says what is wrong without quoting it); a URL's password is masked."""
    reason = str(error) or "invalid value"
    if is_secret_name(name):
        return reason
    shown = mask_url(text) if name.endswith("_URL") else text
    return f"{reason} (got {shown!r})"


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


def _structure_str_tuple(value: object, _type: object) -> tuple[str, ...]:
    return str_tuple(value)


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
