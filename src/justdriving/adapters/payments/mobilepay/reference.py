"""What travels in Vipps MobilePay's references and idempotency keys, and back out of its webhooks.

ePayment's `reference` (8-50 characters of `[a-zA-Z0-9-]`) is the payment's only name in every
webhook, and a webhook carries no metadata. So the reference is built to be read back: the
capture mode (`a` automatic, `m` a hold), eight hex digits of our idempotency key (a new
attempt gets a new reference, a retry the same one), a `-x`, then our payment id with `-`
written `-0` and `_` written `-1`. A refund's Idempotency-Key, which its REFUNDED webhook
carries back, is our refund id written the same way, `-x`, and eight hex digits of our key.
"""

from __future__ import annotations

import hashlib
import re

from justdriving.domain.errors import MalformedWebhook, ProviderRejected

MAX_REFERENCE = 50
MAX_KEY = 50  # Idempotency-Key: 1 to 50 characters of [a-zA-Z0-9-]
_SAFE = re.compile(r"[a-zA-Z0-9_-]+")
_WIRE = re.compile(r"[a-zA-Z0-9-]{8,50}")
_ESCAPES = {"-": "-0", "_": "-1"}
_UNESCAPES = {"0": "-", "1": "_"}
AUTOMATIC, MANUAL = "a", "m"


def digest(value: str, length: int = 8) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def encode(our_id: str, provider: str) -> str:
    if not _SAFE.fullmatch(our_id):
        raise ProviderRejected(
            provider,
            "a MobilePay reference carries letters, digits, '-' and '_' only",
            provider_code="reference_invalid",
        )
    return "".join(_ESCAPES.get(char, char) for char in our_id)


def decode(text: str) -> str:
    """Our id from its encoded form; ValueError when it is not one."""
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char != "-":
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in _UNESCAPES:
            raise ValueError("not an encoded id")
        out.append(_UNESCAPES[escaped])
    if not out:
        raise ValueError("an empty id")
    return "".join(out)


def payment_reference(payment_id: str, manual: bool, key: str, provider: str) -> str:
    reference = f"{MANUAL if manual else AUTOMATIC}{digest(key)}-x{encode(payment_id, provider)}"
    if len(reference) > MAX_REFERENCE:
        raise ProviderRejected(
            provider,
            f"payment id {payment_id[:60]!r} is too long for a MobilePay reference",
            provider_code="reference_too_long",
        )
    return reference


def payment_of(reference: str) -> tuple[str, bool]:
    """(our payment id, whether it is a hold) from a reference we made; MalformedWebhook else."""
    mode, _, rest = reference.partition("-x")
    if len(mode) != 9 or mode[0] not in (AUTOMATIC, MANUAL) or not rest:
        raise MalformedWebhook("the reference is not one of ours")
    try:
        return decode(rest), mode[0] == MANUAL
    except ValueError:
        raise MalformedWebhook("the reference is not one of ours") from None


def is_manual(reference: str) -> bool:
    return reference[:1] == MANUAL


def refund_key(refund_id: str, key: str, provider: str) -> str:
    value = f"{encode(refund_id, provider)}-x{digest(key)}"
    if len(value) > MAX_KEY:
        raise ProviderRejected(
            provider,
            f"refund id {refund_id[:60]!r} is too long for a MobilePay idempotency key",
            provider_code="idempotency_key_too_long",
        )
    return value


def refund_of(key: str | None) -> str | None:
    """Our refund id from a refund's Idempotency-Key we made; None for anyone else's."""
    if not key or "-x" not in key:
        return None
    encoded, _, tail = key.rpartition("-x")
    try:
        return decode(encoded) if re.fullmatch(r"[0-9a-f]{8}", tail) else None
    except ValueError:
        return None


def operation_key(key: str, step: str) -> str:
    """A capture's or cancel's Idempotency-Key: stable for our key, within ePayment's 50."""
    return f"{step}-{digest(key, 40)}"


def is_reference(value: str) -> bool:
    return _WIRE.fullmatch(value) is not None
