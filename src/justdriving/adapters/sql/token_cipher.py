"""Accounting OAuth tokens encrypted at rest (ACCOUNTING_TOKEN_KEY), with Fernet.

The first key encrypts; every key decrypts, so a new key can be put first while rows written
under the old one still read (they are written again under the new one as their tokens
rotate). A stored value carries the prefix ``fernet:``; a value without it is a plaintext row
from before a key was configured. cryptography is imported only when a cipher is made, that is
only with a key configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from justdriving.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

SEALED_PREFIX: Final = "fernet:"
KEY_SETTING: Final = "ACCOUNTING_TOKEN_KEY"


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


class TokenCipher:
    """Seals tokens under the first of `keys` and opens them under any of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        try:
            from cryptography.fernet import Fernet, InvalidToken, MultiFernet
        except ImportError as error:
            raise ConfigurationError(
                f"{KEY_SETTING} is set but cryptography is not installed",
                ["install justdriving[xero] or justdriving[quickbooks]"],
            ) from error
        try:
            fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError) as error:  # the message never quotes the key
            problem = f"{KEY_SETTING}: not a Fernet key"
            raise ConfigurationError("unusable key", [problem]) from error
        if not fernets:
            raise ConfigurationError("no key", [f"{KEY_SETTING} holds no key"])
        self._current: Fernet = fernets[0]
        self._any: MultiFernet = MultiFernet(fernets)
        self._invalid = InvalidToken

    def seal(self, token: str) -> str:
        return SEALED_PREFIX + self._any.encrypt(token.encode()).decode("ascii")

    def open(self, stored: str, record: str) -> str:
        """The token in `stored` (a plaintext value as it is). ConfigurationError naming
        ACCOUNTING_TOKEN_KEY when none of the keys opens it; `record` says whose it is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._any.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except self._invalid as error:
            raise ConfigurationError(
                f"the tokens of {record} cannot be decrypted",
                [
                    f"{KEY_SETTING} lacks the key they were encrypted with: put it back "
                    "(after the current key), or connect the organisation again"
                ],
            ) from error

    def is_current(self, stored: str) -> bool:
        """Whether `stored` is sealed under the first key (not plaintext, not an older key)."""
        if not is_sealed(stored):
            return False
        try:
            self._current.extract_timestamp(stored.removeprefix(SEALED_PREFIX).encode())
        except self._invalid:
            return False
        return True


def open_token(cipher: TokenCipher | None, stored: str, record: str) -> str:
    """`stored` read back: opened by `cipher`, or as it is when no key is configured, unless it
    is sealed (then ConfigurationError: the key is missing, and a sealed value is no token)."""
    if cipher is not None:
        return cipher.open(stored, record)
    if is_sealed(stored):
        raise ConfigurationError(
            f"the tokens of {record} are encrypted",
            [f"{KEY_SETTING} is not set: set it to the key they were encrypted with"],
        )
    return stored
