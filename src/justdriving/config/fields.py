"""What every group of settings shares: secret and URL fields, validators, masking, and the
wording of production refusals. No value of a secret ever leaves this module in a message."""

import enum
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import attrs
from attrs import field

# --------------------------------------------------------------------------------------------
# secrets and URLs: never shown as they are

_SECRET_MARKERS: Final = ("KEY", "SECRET", "PASSWORD", "TOKEN")


def is_secret_name(name: str) -> bool:
    """Whether a variable (or field) name denotes a secret whose value must never be shown."""
    upper = name.upper()
    return any(marker in upper for marker in _SECRET_MARKERS)


def mask_secret(value: str | None) -> str:
    """'unset' or 'set': not one character of a secret is shown, whatever its length."""
    return "unset" if value is None else "set"


def mask_url(url: str) -> str:
    """The URL with any password replaced by '***' (user, host and path are kept)."""
    try:
        parts = urlsplit(url)
        password, port = parts.password, parts.port
    except ValueError:
        return "set (unparseable URL)"
    if password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    userinfo = f"{parts.username}:***" if parts.username else ":***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _secret_repr(value: str | None) -> str:
    return "None" if value is None else "'***'"


def _url_repr(value: str | None) -> str:
    return "None" if value is None else repr(mask_url(value))


def secret(validator: Callable[[Any, Any, str | None], None] | None = None) -> Any:
    """A secret field: unset by default, '***' in repr()."""
    return field(default=None, repr=_secret_repr, validator=validator)


def url(validator: Callable[[Any, Any, str | None], None] | None = None) -> Any:
    """A URL field: unset by default, any password in it masked in repr()."""
    return field(default=None, repr=_url_repr, validator=validator)


# --------------------------------------------------------------------------------------------
# validators (also run by from_env, per field, so every bad variable is reported at once)


def between(low: int, high: int) -> Callable[[object, "attrs.Attribute[int]", int], None]:
    def check(_instance: object, _attribute: "attrs.Attribute[int]", value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")

    return check


def split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return split_list(value)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    raise TypeError("must be a comma separated list")


# --------------------------------------------------------------------------------------------
# the wording of refusals: each names its variable, none quotes a value

_HTTPS: Final = re.compile(r"https://[^/?#\s]+", re.IGNORECASE)


def fake(name: str, value: enum.StrEnum, real: str) -> str:
    return f"{name} is {value!s}, which production refuses; choose {real}"


def missing(**values: str | None) -> list[str]:
    return [f"{name} is not set" for name, value in values.items() if not value]


def not_https(**urls: str | None) -> list[str]:
    """A problem for every URL that is set but is not https:// with a host. The scheme is
    compared case-insensitively, so HTTP:// is plain http too."""
    return [
        f"{name} must be an https:// URL in production (plain http sends credentials and "
        "personal data in clear)"
        for name, value in urls.items()
        if value and not _HTTPS.match(value.strip())
    ]
