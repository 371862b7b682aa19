"""Engines: SQLite in WAL mode for one machine, PostgreSQL (psycopg 3) beyond it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from justdriving.domain.errors import ConfigurationError


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; `postgresql://` is taken to mean the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, **kwargs)
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
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


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
