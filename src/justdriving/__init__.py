"""justdriving: the integration core of a driving-school platform.

`justdriving.bootstrap()` returns the application facade with every use case by name. Importing
this package reads no configuration, opens no connection and imports no provider SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.config import Settings
from justdriving.domain.errors import (
    BookingNotAllowed,
    ConcurrencyConflict,
    ConfigurationError,
    CurrencyMismatch,
    InvalidInput,
    InvalidMoney,
    InvalidTransition,
    JustDrivingError,
    NotFound,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderRejected,
    ProviderUnavailable,
    RefundExceedsCaptured,
    TeacherDoubleBooked,
)
from justdriving.domain.money import Money

if TYPE_CHECKING:
    from justdriving.domain.services.application import Application

__version__ = "0.1.0"


def bootstrap(settings: Settings | None = None) -> Application:
    """Wire the application for `settings` (read from the environment when None)."""
    from justdriving.container import bootstrap as _bootstrap

    return _bootstrap(settings)


__all__ = [
    "BookingNotAllowed",
    "ConcurrencyConflict",
    "ConfigurationError",
    "CurrencyMismatch",
    "InvalidInput",
    "InvalidMoney",
    "InvalidTransition",
    "JustDrivingError",
    "Money",
    "NotFound",
    "PaymentDeclined",
    "PaymentNotAllowed",
    "ProviderRejected",
    "ProviderUnavailable",
    "RefundExceedsCaptured",
    "Settings",
    "TeacherDoubleBooked",
    "__version__",
    "bootstrap",
]
