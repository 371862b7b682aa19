"""The SQL database DATABASE_URL names: its unit of work, the OAuth token cipher, and the
stored grants on their own (for connecting an organisation without the whole application)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from justdriving.config import AccountingSettings, Settings
from justdriving.config.platform import MEMORY_DATABASE
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.ports.accounting import GrantStore
from justdriving.ports.persistence import InboxIntake

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from justdriving.adapters.sql.token_cipher import TokenCipher
    from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory

__all__ = [
    "MEMORY_DATABASE",
    "SqlUnitOfWorkFactory",
    "StoredGrants",
    "grant_store",
    "make_engine",
    "refuse_unmigrated",
    "token_cipher",
    "unit_of_work",
]


def make_engine(url: str, **kwargs: Any) -> Engine:
    """The engine for DATABASE_URL (SQLAlchemy is imported here, not with this module, so a
    process on memory:// never loads it)."""
    from justdriving.adapters.sql.engine import make_engine

    return make_engine(url, **kwargs)


def unit_of_work(engine: Engine, cipher: TokenCipher | None = None) -> SqlUnitOfWorkFactory:
    from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory

    return SqlUnitOfWorkFactory(engine, cipher)


def inbox_intake(engine: Engine) -> InboxIntake:
    """The request path's one-INSERT way into the inbox on `engine`."""
    from justdriving.adapters.sql.inbox_intake import SqlInboxIntake

    return SqlInboxIntake(engine)


def __getattr__(name: str) -> Any:
    if name == "SqlUnitOfWorkFactory":
        from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory

        return SqlUnitOfWorkFactory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def token_cipher(settings: AccountingSettings) -> TokenCipher | None:
    """The cipher of the stored OAuth tokens (imports cryptography), or None without a key."""
    keys = settings.accounting_token_keys
    if not keys:
        return None
    from justdriving.adapters.sql.token_cipher import TokenCipher

    return TokenCipher(keys)


def refuse_unmigrated(engine: Engine) -> None:
    """ConfigurationError, saying how to apply them, when migrations are pending; and naming
    DATABASE_URL (its password hidden) when the database cannot be reached."""
    from sqlalchemy.exc import OperationalError

    from justdriving.adapters.sql.schema import pending

    try:
        behind = pending(engine)
    except OperationalError:
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigurationError(
            "the database cannot be reached", [f"DATABASE_URL: cannot connect to {where}"]
        ) from None
    if behind:
        raise ConfigurationError(
            "the database is not migrated", ["DATABASE_URL: run `justdriving migrate` first"]
        )


def grant_store(settings: Settings) -> GrantStore:
    """The database's OAuth grants (where the sync reads them). Refuses memory:// and an
    unmigrated database."""
    url = settings.effective_database_url
    if url == MEMORY_DATABASE:
        raise ConfigurationError(
            "a grant in memory:// is gone when the command ends", ["DATABASE_URL"]
        )
    engine = make_engine(url)
    refuse_unmigrated(engine)
    return StoredGrants(unit_of_work(engine, token_cipher(settings)))
