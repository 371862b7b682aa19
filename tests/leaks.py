"""Finding personal data and secrets in output, in every encoding they may take there.

`encodings(value)`: the forms a value takes in logs, URLs, form bodies and SQL parameters
(as is, URL-encoded once and twice, form-encoded, a phone number without its "+" as GatewayAPI
writes it, JSON-escaped). `leaks(text, values)`: which values appear in `text` in any of those
forms, or in `text` decoded (URL decoding, up to three times)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote_plus


def encodings(value: str) -> set[str]:
    forms = {
        value,
        quote(value, safe=""),
        quote_plus(value),
        quote(quote(value, safe=""), safe=""),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=True).replace("@", "\\u0040")[1:-1],
    }
    if value.startswith("+"):
        forms.add(value[1:])  # an MSISDN: the country code without "+"
        forms.add(value.replace(" ", ""))
    return {form for form in forms if form}


def _decoded(text: str) -> list[str]:
    views = [text, text.replace("\\u0040", "@")]
    current = text
    for _ in range(3):
        current = unquote_plus(current)
        views.append(current)
    return views


def leaks(text: str, values: Iterable[str]) -> list[str]:
    """The values found in `text`, as they are or encoded (empty: none)."""
    views = _decoded(text)
    found = []
    for value in values:
        forms = encodings(value)
        if any(form in view for view in views for form in forms):
            found.append(value)
    return found
