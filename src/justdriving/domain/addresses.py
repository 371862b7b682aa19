"""Postal addresses and Danish CVR numbers: what a full Danish invoice names of seller and buyer."""

from __future__ import annotations

import re
from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import InvalidCvrNumber, InvalidInput

_CVR = re.compile(r"^[0-9]{8}$")


def check_cvr(_: object, __: object, value: Any) -> None:
    """attrs validator: None, or a CVR number of exactly 8 digits (`12345678`)."""
    if value is not None and (not isinstance(value, str) or not _CVR.match(value)):
        raise InvalidCvrNumber("a CVR number is exactly 8 digits, such as 12345678")


def _text(limit: int) -> Any:
    def check(_: object, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise InvalidInput(f"an address's {attribute.name} is 1 to {limit} characters")

    return check


def _country(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha() or not value.isupper():
        raise InvalidInput("an address's country is an ISO 3166 alpha-2 code such as DK")


@frozen
class PostalAddress:
    """A street address: `Vestergade 1, 2. th.`, `8000`, `Aarhus C`, country `DK`."""

    street: str = field(validator=_text(200))
    postcode: str = field(validator=_text(20))
    city: str = field(validator=_text(100))
    country: str = field(default="DK", validator=_country)

    def lines(self, home: str = "DK") -> tuple[str, ...]:
        """As printed on a letter: the country only when it is not `home`."""
        place = f"{self.postcode} {self.city}"
        return (self.street, place) if self.country == home else (self.street, place, self.country)
