"""Redaction: what never reaches a log line, a page or a stored error (secret values,
secret-named fields, keys, tokens, Authorization values, card numbers) and the masks of phone
numbers and email addresses, in any URL encoding."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Final
from urllib.parse import unquote, unquote_plus, urlsplit

import attrs
import phonenumbers

from justdriving.config import Settings, is_secret_name

REDACTED: Final = "[redacted]"
MIN_SECRET_LENGTH: Final = 6

# Field names whose value is dropped whole: matched as a part of the name ("api_key",
# "X-Stripe-Signature", "card_number", "webhookSecret").
_SECRET_NAME_PARTS: Final = (
    "secret",
    "token",
    "password",
    "passwd",
    "authorization",
    "signature",
    "cookie",
    "credential",
)
_SECRET_NAME_WORDS: Final = frozenset({"key", "apikey", "card", "cvc", "cvv", "pan", "auth"})
_WORD: Final = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

_STRIPE_KEY: Final = re.compile(r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+|whsec_[A-Za-z0-9+/=_-]+")
# A scheme and its credentials; credentials in plain lower-case letters are ordinary words.
_AUTH_VALUE: Final = re.compile(
    r"\b(?P<scheme>(?i:bearer|basic|token))(?P<sep>\s+)"
    r"(?=[a-z]*(?:[A-Z0-9_~+/=-]|[.][A-Za-z0-9]))[A-Za-z0-9._~+/=-]+"
)
_TWILIO_SID: Final = re.compile(r"\b(?:AC|SK)[0-9a-f]{32}\b")
_CARD: Final = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
# "+45 20 12 34 56", and form-encoded "+45+20+12+34+56".
_E164: Final = re.compile(r"(?<![\d+])\+\d(?:[ +]?\d){6,14}(?!\d)")
_DANISH: Final = re.compile(r"(?<![\w.+/-])[2-9]\d(?: ?\d\d){3}(?![\w/-])")
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A number with its country code and no "+" (GatewayAPI's MSISDN, "4520123456"): masked when
# it has a possible length for that country code (Unix times, "17…", have none for +1).
_MSISDN: Final = re.compile(r"(?<![\w.+%-])\d{10,15}(?![\w-])")
# A URL- or JSON-encoded stretch ("elev00%40example.com", "%2B4520123456", "%2B45+20+12+34+56",
# "elev00\u0040example.com"): decoded (up to three times, for a double encoding) and searched
# again.
_ENCODED: Final = re.compile(r"[\w.~+@%\\-]*(?:%[0-9A-Fa-f]{2}|\\u00[0-9A-Fa-f]{2})[\w.~+@%\\-]*")
_JSON_ESCAPE: Final = re.compile(r"\\u00([0-9A-Fa-f]{2})")
_DECODE_ROUNDS: Final = 3

_PLAIN: Final = (str, int, float, bool, type(None))


def mask_phone(text: str, default_country: str = "45") -> str:
    """'+4520123456' or '20 12 34 56' -> '+45******56' (country code and last two digits)."""
    digits = re.sub(r"\D", "", text)
    country = default_country
    if text.startswith("+"):
        try:
            country = str(phonenumbers.parse(f"+{digits}").country_code)
        except phonenumbers.NumberParseException:
            country = digits[:2]
        digits = digits[len(country) :]
    hidden = max(len(digits) - 2, 1)
    return f"+{country}{'*' * hidden}{digits[-2:]}"


def mask_email(text: str) -> str:
    """'jane@example.com' -> 'j***@example.com'."""
    local, _, domain = text.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _msisdn(match: re.Match[str]) -> str:
    digits = match.group()
    try:
        number = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return digits
    return mask_phone(f"+{digits}") if phonenumbers.is_possible_number(number) else digits


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card redacted]" if _luhn(digits) else match.group()


def is_secret_field(name: str) -> bool:
    """Whether a log field (or header) name denotes a secret whose value is dropped whole."""
    lower = name.lower()
    if any(part in lower for part in _SECRET_NAME_PARTS):
        return True
    words = {word.lower() for word in _WORD.findall(name)}
    return bool(words & _SECRET_NAME_WORDS)


def secret_values(settings: Settings) -> list[str]:
    """Every secret value of `settings`: each secret field's value and any URL password."""
    values: list[str] = []
    for attribute in attrs.fields(type(settings)):
        value = getattr(settings, attribute.name)
        if not isinstance(value, str):
            continue
        if is_secret_name(attribute.name):
            values.append(value)
        elif attribute.name.endswith("_url"):
            try:
                password = urlsplit(value).password
            except ValueError:
                continue
            if password:
                values.append(password)
    return values


class Redactor:
    """A structlog processor that removes secrets and masks personal data in an event dict.

    Values under secret-looking names become "[redacted]"; inside every string (recursively in
    dicts, lists and tuples; other objects are turned into strings first), registered secret
    values, Stripe keys, Authorization credentials, Twilio SIDs and card numbers (Luhn-valid)
    are removed, and phone numbers and email addresses are masked.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.register(secrets)

    def register(self, secrets: Iterable[str]) -> None:
        """Add known secret values (shorter than MIN_SECRET_LENGTH: ignored, too common)."""
        known = set(self._secrets)
        known.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for name in list(event_dict):
            event_dict[name] = self.value(name, event_dict[name])
        return event_dict

    def value(self, name: str, value: Any) -> Any:
        """`value` safe to show under field name `name`."""
        if is_secret_field(name) and value is not None:
            return REDACTED
        return self.clean(value)

    def clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, Mapping):
            return {str(k): self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.clean(item) for item in value]
        return self.text(str(value))

    def text(self, text: str) -> str:
        """`text` with secrets removed and phone numbers and email addresses masked, also
        where they are URL-, form- or JSON-encoded (a stretch holding one is shown decoded,
        masked)."""
        return _ENCODED.sub(self._encoded, self._plain(text))

    def _encoded(self, match: re.Match[str]) -> str:
        original = current = match.group()
        for _ in range(_DECODE_ROUNDS):
            unescaped = _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), current)
            # "+" is a space in a form body and itself in a path: both readings are searched.
            for decoded in (unescaped, unquote(unescaped), unquote_plus(unescaped)):
                cleaned = self._plain(decoded)
                if cleaned != decoded:
                    return cleaned
            current = unquote(unescaped)
            if "%" not in current and "\\u00" not in current:
                break
        return original

    def _plain(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _STRIPE_KEY.sub(REDACTED, text)
        text = _AUTH_VALUE.sub(lambda m: f"{m['scheme']}{m['sep']}{REDACTED}", text)
        text = _TWILIO_SID.sub(lambda m: f"{m.group()[:2]}{REDACTED}", text)
        text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
        text = _CARD.sub(_card, text)
        text = _E164.sub(lambda m: mask_phone(m.group()), text)
        text = _MSISDN.sub(_msisdn, text)
        return _DANISH.sub(lambda m: mask_phone(m.group()), text)


_CURRENT: list[Redactor] = [Redactor()]


def redact(text: str) -> str:
    """`text` safe to show anywhere (a log line, a page, a stored error): the secrets of the
    settings logging was last configured with removed, card numbers, keys and credentials
    removed, phone numbers and email addresses masked, in any URL encoding."""
    return _CURRENT[0].text(text)
