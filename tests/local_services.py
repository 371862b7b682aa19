"""Local services the integration tests use: PostgreSQL, Redis. Absent: skip, or fail in CI.

CI sets JUSTDRIVING_REQUIRE_SERVICES=1, so a missing service is a failure there, never a skip.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine, create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "JUSTDRIVING_TEST_POSTGRES_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Several checkouts on one machine can test side by side, each on a database of its own.
POSTGRES_DATABASE = os.environ.get("JUSTDRIVING_TEST_POSTGRES_DATABASE", "justdriving_test")
REDIS_URL = os.environ.get("JUSTDRIVING_TEST_REDIS", "redis://127.0.0.1:6379/15")


def unavailable(service: str, reason: object) -> None:
    message = f"{service} is not available: {reason}"
    if os.environ.get("JUSTDRIVING_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (JUSTDRIVING_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def postgres_url() -> str:
    """A URL to a database of our own on the local server, created on first use."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": POSTGRES_DATABASE},
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
        admin.dispose()
    except Exception as error:
        unavailable("PostgreSQL", error)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DATABASE}"
    _forget_a_schema_of_another_checkout(url)
    return url


def _forget_a_schema_of_another_checkout(url: str) -> None:
    """The test database is the tests' own: one left at a migration this checkout does not
    know (another branch's) is emptied, so that the migrations here apply from the start."""
    from alembic.script import ScriptDirectory

    from justdriving.adapters.sql.schema import _config

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            known = connection.execute(
                text("SELECT 1 FROM information_schema.tables WHERE table_name = 'alembic_version'")
            ).first()
            if known is None:
                return
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            scripts = ScriptDirectory.from_config(_config(engine))
            if current is None or current in {s.revision for s in scripts.walk_revisions()}:
                return
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def empty_tables(engine: Engine) -> None:
    from justdriving.adapters.sql.tables import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {names}"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


def redis_url() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        unavailable("Redis", error)
    return REDIS_URL
