"""The Alembic migrations build exactly the schema tables.py describes, on every database."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import _config, upgrade
from justdriving.adapters.sql.tables import metadata
from local_services import postgres_url


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'migrations.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    engine = make_engine(postgres_url())
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "engine_of",
    [pytest.param(sqlite_engine, id="sqlite"), pytest.param(postgres_engine, id="postgresql")],
)
def test_the_migrated_schema_matches_the_tables(
    engine_of: Callable[[], AbstractContextManager[Engine]],
) -> None:
    with engine_of() as engine:
        upgrade(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_0007_adds_the_newest_first_indexes_and_its_downgrade_drops_them() -> None:
    with sqlite_engine() as engine:
        upgrade(engine)
        assert "ix_messages_created_at" in _indexes(engine, "messages")
        assert "ix_inbox_received_at" in _indexes(engine, "inbox")
        config = _config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert "ix_messages_created_at" not in _indexes(engine, "messages")
        assert "ix_inbox_received_at" not in _indexes(engine, "inbox")
        upgrade(engine)
        assert "ix_messages_created_at" in _indexes(engine, "messages")
