"""How many SMS parts a body costs: GSM-7 or UCS-2, split the way a handset reassembles it.

One part holds 160 GSM-7 septets or 70 UTF-16 code units; a concatenated message spends room on
its header, so each part then holds 153 or 67. A character from the GSM-7 extension table is an
escape plus a septet (it counts twice); a character outside the BMP (most emoji) is a surrogate
pair (two units). Neither is ever cut across two parts, so a part may end one unit short.
One character outside GSM-7 makes the whole message UCS-2.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# GSM 03.38 default alphabet, in table order (0x1B, the escape, is left out on purpose).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC + one septet.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION


class SmsEncoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"

    @property
    def single_part(self) -> int:
        """Units that fit in a message of one part."""
        return 160 if self is SmsEncoding.GSM7 else 70

    @property
    def multi_part(self) -> int:
        """Units that fit in each part of a concatenated message."""
        return 153 if self is SmsEncoding.GSM7 else 67


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """`units` are septets (GSM-7) or UTF-16 code units (UCS-2); `parts` are what is billed."""

    encoding: SmsEncoding
    parts: int
    units: int


def encoding_of(body: str) -> SmsEncoding:
    return SmsEncoding.GSM7 if all(char in _GSM7 for char in body) else SmsEncoding.UCS2


def units_of(char: str, encoding: SmsEncoding) -> int:
    """What one character costs: 2 for an escape or a surrogate pair, else 1."""
    if encoding is SmsEncoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def split(body: str) -> list[str]:
    """The parts a handset receives; "".join(split(body)) == body. An empty body has none."""
    encoding = encoding_of(body)
    if sum(units_of(char, encoding) for char in body) <= encoding.single_part:
        return [body] if body else []
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in body:
        cost = units_of(char, encoding)
        if used + cost > encoding.multi_part:  # a two-unit character moves whole to the next part
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += cost
    parts.append("".join(current))
    return parts


def segments(body: str) -> SegmentCount:
    encoding = encoding_of(body)
    units = sum(units_of(char, encoding) for char in body)
    return SegmentCount(encoding, len(split(body)), units)
