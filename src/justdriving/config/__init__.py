"""Settings: the one place that reads the environment, grouped by capability.

Each module owns one group's fields, validation and production rules: ``platform``
(APP_ENV, DATABASE_URL, PUBLIC_BASE_URL, DEBUG, OPS_TOKEN), ``payments``, ``sms``, ``mail``,
``accounting``, ``queue``, ``host_events`` and ``log_output``. ``Settings`` (``settings``)
joins them into one frozen object whose fields keep the variables' names
(``settings.sms_provider`` is SMS_PROVIDER); an adapter's factory takes the group it needs
(``SmsSettings``, …).

Secrets (every variable whose name contains KEY, SECRET, PASSWORD or TOKEN, and the password
part of any *_URL) never appear in ``repr()``, in ``masked()`` or in an error message.
"""

from justdriving.config.accounting import AccountingProvider, AccountingSettings
from justdriving.config.fields import is_secret_name
from justdriving.config.host_events import HostEventSettings
from justdriving.config.log_output import LogFormat, LoggingSettings, LogLevel
from justdriving.config.mail import MailEncryption, Mailer, MailSettings
from justdriving.config.payments import PaymentProvider, PaymentSettings
from justdriving.config.platform import OPS_TOKEN_MIN_LENGTH, AppEnv, PlatformSettings
from justdriving.config.queue import QueueBackend, QueueSettings
from justdriving.config.settings import Settings
from justdriving.config.sms import SmsProvider, SmsSettings

__all__ = [
    "OPS_TOKEN_MIN_LENGTH",
    "AccountingProvider",
    "AccountingSettings",
    "AppEnv",
    "HostEventSettings",
    "LogFormat",
    "LogLevel",
    "LoggingSettings",
    "MailEncryption",
    "MailSettings",
    "Mailer",
    "PaymentProvider",
    "PaymentSettings",
    "PlatformSettings",
    "QueueBackend",
    "QueueSettings",
    "Settings",
    "SmsProvider",
    "SmsSettings",
    "is_secret_name",
]
