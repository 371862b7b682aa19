"""The inbox's front door on SQL: one INSERT … ON CONFLICT DO NOTHING in its own transaction.

The statement is built once per process (with bind parameters, so SQLAlchemy compiles it once
and caches it); a request pays for a connection from the pool, the INSERT and the commit, and no
unit of work. The unique (provider, event_id) decides repeats atomically on SQLite and
PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from justdriving.adapters.sql import outbox_rows, tables
from justdriving.adapters.sql.session import WriterBusy
from justdriving.domain.outbox import InboxEvent

_TRIES = 3


class SqlInboxIntake:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        names = [column.name for column in tables.inbox.columns]
        # A row back: stored; none: a repeat (rowcount is not reliable on every driver here).
        self._statement: Any = (
            dialect.insert(tables.inbox)
            .values({name: bindparam(name) for name in names})
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(tables.inbox.c.id)
        )

    def put(self, event: InboxEvent) -> bool:
        values = {"id": event.id, "version": 1, **outbox_rows.INBOX.to_row(event)}
        for attempt in range(_TRIES):
            try:
                with self._engine.begin() as connection:
                    return connection.execute(self._statement, values).first() is not None
            except OperationalError as error:  # SQLite: another writer held on past the timeout
                busy = "locked" in str(error) or "busy" in str(error).lower()
                if not busy:
                    raise
                if attempt == _TRIES - 1:
                    raise WriterBusy("the database is busy with another writer") from error
        raise AssertionError("unreachable")  # pragma: no cover
