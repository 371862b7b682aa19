"""The checks on a school's details and settings, as attrs validators (each refusal an
InvalidInput naming the field)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from justdriving.domain.errors import InvalidInput
from justdriving.domain.people import EmailAddress, _check_e164, _check_email

LANGUAGES = frozenset({"da", "en"})


def _check_timezone(_: object, __: object, value: Any) -> None:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown IANA timezone {value!r}") from None


def _check_region(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise InvalidInput("a phone region is an ISO 3166 alpha-2 code such as DK")


def _check_language(_: object, __: object, value: Any) -> None:
    if value not in LANGUAGES:
        raise InvalidInput(f"language must be one of {sorted(LANGUAGES)}")


def _sender_id(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.isascii() or not value.strip():
        raise InvalidInput("sender_id is 1 to 11 ASCII letters, digits or spaces, or a number")
    digits = value.removeprefix("+")
    if digits.isdigit():
        if len(digits) > 15:
            raise InvalidInput("sender_id as a number is at most 15 digits")
        return
    if len(value) > 11 or not all(char.isalnum() or char == " " for char in value):
        raise InvalidInput(
            "sender_id is at most 11 letters, digits or spaces (an alphanumeric SMS sender)"
        )
    if not any(char.isalpha() for char in value):
        raise InvalidInput("an alphanumeric sender_id needs at least one letter")


def _display_name(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > 70
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
    ):
        raise InvalidInput("email_from_name is 1 to 70 characters on one line")


def _email_or_none(_: object, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{attribute.name} is an email address")
    EmailAddress.parse(value)


def _of(*kinds: type | None) -> Any:
    """attrs validator: the value is an instance of one of `kinds` (None: may be None)."""
    allowed = tuple(type(None) if k is None else k for k in kinds)

    def check(_: object, attribute: Any, value: Any) -> None:
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join("None" if k is None else k.__name__ for k in kinds)
            raise InvalidInput(f"{attribute.name} is {names}, not {type(value).__name__}")

    return check


def _whole(low: int, high: int) -> Any:
    """attrs validator: an int (not a bool) from `low` to `high`."""

    def check(_: object, attribute: Any, value: Any) -> None:
        if type(value) is not int or not low <= value <= high:
            raise InvalidInput(f"{attribute.name} is an int from {low} to {high}")

    return check


def _optional_whole(low: int, high: int) -> Any:
    """attrs validator: None, or an int (not a bool) from `low` to `high`."""
    whole = _whole(low, high)

    def check(instance: object, attribute: Any, value: Any) -> None:
        if value is not None:
            whole(instance, attribute, value)

    return check


def _optional_e164(_: object, attribute: Any, value: Any) -> None:
    if value is not None:
        _check_e164(_, attribute, value)


def _optional_email(_: object, attribute: Any, value: Any) -> None:
    if value is not None:
        _check_email(_, attribute, value)


_PREFIX = re.compile(r"^[A-Za-z0-9/._-]{0,10}$")


def _number_prefix(_: object, attribute: Any, value: Any) -> None:
    # No spaces or commas: a number is looked up in comma-separated lists (Xero), and
    # QuickBooks takes 21 characters in all.
    if not isinstance(value, str) or not _PREFIX.match(value):
        raise InvalidInput(f"{attribute.name} is up to 10 letters, digits or / . _ -")


def _page_url(_: object, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500:
        raise InvalidInput(f"{attribute.name} is an https:// address of up to 500 characters")
    if any(c.isspace() for c in value):
        raise InvalidInput(f"{attribute.name} holds no spaces")
