"""A school's own Stripe account (Stripe Connect) and the platform's fee on its payments.

With Connect on, each school is the merchant of its card payments: they are made on its
connected account, which Stripe must have enabled for charges first (docs/tenancy.md).
"""

from __future__ import annotations

import re
from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import CurrencyMismatch, InvalidInput
from justdriving.domain.money import Money

_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")
MAX_FEE_BASIS_POINTS = 10_000


def check_account_id(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise InvalidInput("a connected account id looks like acct_ followed by letters and digits")


def _flag(_: object, attribute: Any, value: Any) -> None:
    if type(value) is not bool:
        raise InvalidInput(f"{attribute.name} is a bool")


@frozen
class ConnectedAccount:
    """The school's account at Stripe, as Stripe last reported it."""

    account_id: str = field(validator=check_account_id)
    charges_enabled: bool = field(default=False, validator=_flag)
    details_submitted: bool = field(default=False, validator=_flag)


def _basis_points(_: object, __: object, value: Any) -> None:
    if value is not None and (type(value) is not int or not 0 <= value <= MAX_FEE_BASIS_POINTS):
        raise InvalidInput(f"a platform fee is an int of basis points, 0 to {MAX_FEE_BASIS_POINTS}")


def _flat(_: object, __: object, value: Any) -> None:
    if value is not None and (not isinstance(value, Money) or value.is_negative):
        raise InvalidInput("a flat platform fee is Money, not negative")


@frozen
class PlatformFee:
    """What the platform keeps of each card payment: a share in basis points (250 = 2.5 %) or
    a flat amount in the school's currency; never more than the payment itself."""

    basis_points: int | None = field(default=None, validator=_basis_points)
    flat: Money | None = field(default=None, validator=_flat)

    def __attrs_post_init__(self) -> None:
        if (self.basis_points is None) == (self.flat is None):
            raise InvalidInput("a platform fee is either basis points or a flat amount")

    @classmethod
    def share(cls, basis_points: int) -> PlatformFee:
        return cls(basis_points=basis_points)

    @classmethod
    def fixed(cls, amount: Money) -> PlatformFee:
        return cls(flat=amount)

    def check_currency(self, currency: str) -> None:
        if self.flat is not None and self.flat.currency != currency:
            raise CurrencyMismatch(f"a flat platform fee is in the school's currency, {currency}")

    def on(self, amount: Money) -> Money:
        """The fee on a payment of `amount`: half-up on minor units, at most `amount`."""
        if self.flat is not None:
            self.check_currency(amount.currency)
            fee = self.flat
        else:
            fee = amount.percent(self.basis_points or 0)
        return amount if amount < fee else fee
