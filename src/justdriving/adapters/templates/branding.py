"""A school's branding made safe for an email: a checked colour, a readable text colour on it,
and an http(s) logo only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import evolve

from justdriving.domain.errors import InvalidInput
from justdriving.domain.schools import Branding

_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_DARK_TEXT, _LIGHT_TEXT = "#1f2328", "#ffffff"


def branding_from(value: Any) -> Branding:
    """A Branding from a Branding or a mapping of its fields (a context stored as JSON)."""
    if isinstance(value, Branding):
        return value
    if isinstance(value, Mapping):
        fields = {key: value[key] for key in ("colour", "logo_url", "footer") if key in value}
        return Branding(**fields)
    raise InvalidInput(f"branding must be a Branding or a mapping, not {type(value).__name__}")


def safe_branding(branding: Branding) -> Branding:
    """Branding fit to inline into style and src attributes; anything odd falls back."""
    colour = branding.colour if _HEX_COLOUR.match(branding.colour or "") else Branding().colour
    logo = branding.logo_url
    if not isinstance(logo, str) or not logo.lower().startswith(("https://", "http://")):
        logo = None
    return evolve(branding, colour=colour, logo_url=logo, footer=branding.footer or "")


def text_colour_on(colour: str) -> str:
    """Dark or white text, whichever contrasts more with `colour` (WCAG relative luminance)."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(2 * d for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white is 1.05 / (L + 0.05); with near-black about (L + 0.05) / 0.066.
    return _LIGHT_TEXT if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.066 else _DARK_TEXT
