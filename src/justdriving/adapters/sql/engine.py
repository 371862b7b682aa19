"""Engines: SQLite in WAL mode for one machine, PostgreSQL (psycopg 3) beyond it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from justdriving.domain.errors import ConfigurationError


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; `postgresql://` is taken to mean the psycopg 3 driver.

    A malformed URL, or one naming a driver that is not installed, is a ConfigurationError
    naming DATABASE_URL (the URL itself, which may hold a password, is never quoted)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _create(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "DATABASE_URL",
            [
                f"DATABASE_URL: {parsed.get_backend_name()} "
                "is not supported (use sqlite or postgresql)"
            ],
        )
    return _create(parsed, pool_pre_ping=True, **kwargs)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here, not at connect
    except (ArgumentError, ValueError):
        raise ConfigurationError(
            "DATABASE_URL", ["DATABASE_URL: not a database URL (see the README)"]
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _create(url: URL, **kwargs: Any) -> Engine:
    try:
        return create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError):
        raise ConfigurationError(
            "DATABASE_URL",
            [f"DATABASE_URL: cannot use driver {url.drivername!r} (sqlite or postgresql)"],
        ) from None


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_begin).
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
