"""Integration fixtures: the SQL unit of work on SQLite (always) and PostgreSQL (when present).

`database` is parametrised over both backends: a temporary SQLite file migrated with
`schema.upgrade`, and a PostgreSQL database upgraded and emptied before each test. PostgreSQL
skips when absent, and fails instead under JUSTDRIVING_REQUIRE_SERVICES=1 (CI).

The PostgreSQL database is one of this test session's own (`justdriving_it_<pid>`, next to the
one `postgres_url()` gives, dropped at the end): these tests empty tables and run relays that
take every due row, so they must not share a database with another run going on at the same
time (another developer's, or the contract tests' of a parallel session).

Tests report their measured figures through the `figures` fixture; they are printed in the
terminal summary ("integration figures").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attrs import define, field
from sqlalchemy import Engine, create_engine, text

from card_data import stored_card_numbers
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from local_services import POSTGRES_ADMIN_URL, empty_tables, postgres_url
from spec_session import (  # noqa: F401 - the session's spec check (tests/spec_session.py)
    pytest_runtest_protocol,
    pytest_sessionfinish,
)
from spec_session import pytest_terminal_summary as spec_summary

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.services),
]


@define
class Database:
    """One migrated, empty database; `new_engine()` gives another pool onto the same one."""

    backend: str
    url: str
    engine: Engine
    uow: SqlUnitOfWorkFactory
    _engines: list[Engine] = field(factory=list)

    def new_engine(self) -> Engine:
        engine = make_engine(self.url)
        self._engines.append(engine)
        return engine

    def dispose(self) -> None:
        for engine in [self.engine, *self._engines]:
            engine.dispose()


_SESSION_DATABASE = f"justdriving_it_{os.getpid()}"


def _admin(sql: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(sql))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """A database of this session's own on the server `postgres_url()` finds (or skips)."""
    shared = postgres_url()
    _admin(f'DROP DATABASE IF EXISTS "{_SESSION_DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{_SESSION_DATABASE}"')
    yield shared.rsplit("/", 1)[0] + f"/{_SESSION_DATABASE}"
    _admin(f'DROP DATABASE IF EXISTS "{_SESSION_DATABASE}" WITH (FORCE)')


def open_database(backend: str, folder: Path, request: pytest.FixtureRequest) -> Database:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'integration.db'}"
    else:
        url = request.getfixturevalue("postgres_session_url")
    engine = make_engine(url)
    upgrade(engine)
    if backend == "postgresql":
        empty_tables(engine)
    return Database(backend, url, engine, SqlUnitOfWorkFactory(engine))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = open_database(request.param, tmp_path, request)
    try:
        yield db
        assert stored_card_numbers(db.engine) == [], "a card number was stored"
    finally:
        db.dispose()


@pytest.fixture
def uow(database: Database) -> SqlUnitOfWorkFactory:
    return database.uow


_FIGURES: list[str] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`figures("...")` adds a line, under the test's id, to the terminal summary."""

    def report(line: str) -> None:
        _FIGURES.append(f"{request.node.nodeid.split('::', 1)[-1]}: {line}")

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    spec_summary(terminalreporter)
    if _FIGURES:
        terminalreporter.section("integration figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
