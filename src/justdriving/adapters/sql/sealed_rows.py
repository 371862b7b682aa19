"""Rows that hold secrets (accounting grants' tokens, a school's gateway secret): encrypted by
the TokenCipher (ACCOUNTING_TOKEN_KEY) in the stored document, opened when read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import evolve

from justdriving.adapters.sql import tables
from justdriving.adapters.sql.rows import RowMapper, _document_mapper
from justdriving.adapters.sql.token_cipher import TokenCipher, open_token
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.gateway_credentials import GatewayCredentials

T = TypeVar("T")

GRANTS = _document_mapper(tables.grants, "oauth grant", OAuthGrant)
GATEWAY_CREDENTIALS = _document_mapper(
    tables.gateway_credentials,
    "gateway credentials",
    GatewayCredentials,
    lambda c: {"school_id": c.school_id},
)


def sealed_grants(cipher: TokenCipher | None) -> RowMapper[OAuthGrant]:
    """GRANTS with the tokens encrypted by `cipher` in the stored document. Without a cipher
    tokens are stored as they are (and an encrypted one read is a ConfigurationError); with
    one, a plaintext or older-key row reads and is encrypted under the current key when next
    written."""
    return _sealed(GRANTS, ("access_token", "refresh_token"), "grant", cipher)


def sealed_credentials(cipher: TokenCipher | None) -> RowMapper[GatewayCredentials]:
    """GATEWAY_CREDENTIALS with the secret encrypted by `cipher` (ACCOUNTING_TOKEN_KEY), as
    the grants' tokens are."""
    return _sealed(GATEWAY_CREDENTIALS, ("client_secret",), "credentials", cipher)


def _sealed(
    mapper: RowMapper[T], names: tuple[str, ...], what: str, cipher: TokenCipher | None
) -> RowMapper[T]:
    """`mapper` with the document's `names` sealed by `cipher` (a row read names itself as
    `what` and its id when it cannot be opened)."""

    def seal(row: Mapping[str, Any]) -> dict[str, Any]:
        if cipher is None:
            return dict(row)
        document = dict(row["document"])
        for name in names:
            document[name] = cipher.seal(document[name])
        return {**row, "document": document}

    def unseal(row: Mapping[str, Any]) -> dict[str, Any]:
        document = dict(row["document"])
        for name in names:
            document[name] = open_token(cipher, document[name], f"{what} {row['id']}")
        return {**row, "document": document}

    def stale(row: Mapping[str, Any]) -> bool:
        document = row["document"]
        return cipher is not None and not all(cipher.is_current(document[n]) for n in names)

    return evolve(mapper, seal=seal, unseal=unseal, stale=stale)
