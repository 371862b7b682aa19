"""Accounting OAuth tokens encrypted at rest (ACCOUNTING_TOKEN_KEY) in a SQLite file: the grants
row holds no readable token, keys rotate, plaintext rows from before the key migrate as they
are saved, and a row no configured key opens is a ConfigurationError that shows no token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from justdriving.adapters.sql import tables
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.services.accounting.grants import StoredGrants

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
EXPIRES = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'books.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def grants(engine: Engine, keys: str | None) -> StoredGrants:
    """The grant store of a process configured with ACCOUNTING_TOKEN_KEY=`keys` (None: unset)."""
    cipher = TokenCipher(keys.split(",")) if keys else None
    return StoredGrants(SqlUnitOfWorkFactory(engine, cipher))


def a_grant(n: int) -> OAuthGrant:
    return OAuthGrant(
        id=OAuthGrant.key("xero", "tenant-1"),
        provider="xero",
        tenant_id="tenant-1",
        access_token=f"access-Zq9-{n}-eyJhbGciOiJSUzI1NiJ9",
        refresh_token=f"refresh-Zq9-{n}-4f2a9c1d",
        expires_at=EXPIRES + timedelta(hours=n),
    )


def raw_row(engine: Engine) -> str:
    """The whole grants row as stored, as text."""
    with engine.connect() as connection:
        [row] = connection.execute(select(tables.grants)).mappings().all()
    return json.dumps(dict(row), default=str)


def stored_tokens(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        [document] = connection.execute(select(tables.grants.c.document)).scalars().all()
    return {name: document[name] for name in ("access_token", "refresh_token")}


def loaded(store: StoredGrants) -> OAuthGrant:
    grant = store.load("xero", "tenant-1")
    assert grant is not None
    return grant


def same_grant(a: OAuthGrant, b: OAuthGrant) -> bool:
    fields = ("id", "provider", "tenant_id", "access_token", "refresh_token", "expires_at")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


def test_with_a_key_the_row_holds_no_token_and_the_grant_loads_back_equal(engine: Engine) -> None:
    grant = a_grant(1)

    grants(engine, KEY_A).save(grant)

    row = raw_row(engine)
    assert grant.access_token not in row
    assert grant.refresh_token not in row
    assert all(value.startswith("fernet:") for value in stored_tokens(engine).values())
    assert same_grant(loaded(grants(engine, KEY_A)), a_grant(1))


def test_without_a_key_tokens_are_stored_as_before(engine: Engine) -> None:
    grants(engine, None).save(a_grant(1))

    assert stored_tokens(engine) == {
        "access_token": a_grant(1).access_token,
        "refresh_token": a_grant(1).refresh_token,
    }
    assert same_grant(loaded(grants(engine, None)), a_grant(1))


def test_a_row_under_the_old_key_reads_with_both_and_is_rewritten_under_the_new_one_on_save(
    engine: Engine,
) -> None:
    grants(engine, KEY_A).save(a_grant(1))
    rotated = grants(engine, f"{KEY_B},{KEY_A}")

    grant = loaded(rotated)
    assert same_grant(grant, a_grant(1))
    rotated.save(grant)  # the same tokens: written again all the same, under the new key

    assert same_grant(loaded(grants(engine, KEY_B)), a_grant(1))
    with pytest.raises(ConfigurationError, match="ACCOUNTING_TOKEN_KEY"):
        grants(engine, KEY_A).load("xero", "tenant-1")


def test_a_refresh_under_rotated_keys_is_stored_under_the_new_key(engine: Engine) -> None:
    grants(engine, KEY_A).save(a_grant(1))

    grants(engine, f"{KEY_B},{KEY_A}").save(a_grant(2))

    assert same_grant(loaded(grants(engine, KEY_B)), a_grant(2))
    row = raw_row(engine)
    assert a_grant(2).access_token not in row
    assert a_grant(2).refresh_token not in row


def test_a_plaintext_row_from_before_the_key_reads_and_is_encrypted_on_its_next_save(
    engine: Engine,
) -> None:
    grants(engine, None).save(a_grant(1))
    keyed = grants(engine, KEY_A)

    assert same_grant(loaded(keyed), a_grant(1))
    assert a_grant(1).refresh_token in raw_row(engine)  # reading writes nothing

    keyed.save(a_grant(2))  # the next refresh

    row = raw_row(engine)
    for token in (a_grant(1).access_token, a_grant(1).refresh_token):
        assert token not in row
    for token in (a_grant(2).access_token, a_grant(2).refresh_token):
        assert token not in row
    assert same_grant(loaded(grants(engine, KEY_A)), a_grant(2))


def test_a_row_under_a_key_no_longer_configured_is_a_configuration_error_showing_no_token(
    engine: Engine,
) -> None:
    grants(engine, KEY_A).save(a_grant(1))
    sealed = stored_tokens(engine)

    with pytest.raises(ConfigurationError) as refused:
        grants(engine, KEY_B).load("xero", "tenant-1")

    message = str(refused.value)
    assert "ACCOUNTING_TOKEN_KEY" in message
    assert "xero:tenant-1" in message
    for secret in (*sealed.values(), a_grant(1).access_token, a_grant(1).refresh_token, KEY_A):
        assert secret not in message


def test_an_encrypted_row_read_without_a_key_is_a_configuration_error(engine: Engine) -> None:
    grants(engine, KEY_A).save(a_grant(1))

    with pytest.raises(ConfigurationError, match="ACCOUNTING_TOKEN_KEY is not set"):
        grants(engine, None).load("xero", "tenant-1")
