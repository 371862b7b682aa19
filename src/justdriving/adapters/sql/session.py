"""One transaction's identity map: loads rows once, writes what changed, checks versions."""

from __future__ import annotations

from typing import Any

from attrs import define
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.elements import ColumnElement

from justdriving.adapters.sql.rows import RowMapper
from justdriving.domain.errors import ConcurrencyConflict, DuplicateRecord, NotFound


class WriterBusy(ConcurrencyConflict):
    """SQLite: another connection wrote since this transaction's first read. Writing again in
    a fresh transaction is safe, since every update is guarded by its version."""


@define
class _Tracked:
    item: Any
    mapper: RowMapper[Any]
    row: dict[str, Any] | None  # as last written or read; None: not in the database yet
    db_version: int


class TrackedSession:
    """Reads through an identity map; `flush` writes new and changed records in one go.

    A versioned row is updated only where its version is still the one read, else
    ConcurrencyConflict. Constraint violations (a number or provider id taken meanwhile) are
    conflicts too: the caller's transaction is rolled back and nothing is half-written.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        # Whether this transaction wrote anything yet. Until it has, a transaction refused
        # for a stale snapshot can be replayed whole in a fresh one.
        self.has_written = False

    def add(self, mapper: RowMapper[Any], item: Any) -> None:
        key = (mapper.table.name, item.id)
        if key in self._tracked or self._exists(mapper, item.id):
            raise DuplicateRecord(f"{mapper.kind} {item.id} exists already")
        self._tracked[key] = _Tracked(item, mapper, None, getattr(item, "version", 0))

    def adopt(self, mapper: RowMapper[Any], item: Any, version: int) -> None:
        """Track a record the caller has just inserted itself, at `version`."""
        self._tracked[(mapper.table.name, item.id)] = _Tracked(
            item, mapper, mapper.to_row(item), version
        )

    def find(self, mapper: RowMapper[Any], id: str) -> Any | None:
        tracked = self._tracked.get((mapper.table.name, id))
        if tracked is not None:
            return tracked.item
        found = self.select(mapper, mapper.table.c.id == id)
        return found[0] if found else None

    def get(self, mapper: RowMapper[Any], id: str) -> Any:
        item = self.find(mapper, id)
        if item is None:
            raise NotFound(mapper.kind, id)
        return item

    def select(
        self,
        mapper: RowMapper[Any],
        *where: ColumnElement[bool],
        order_by: Any = None,
        limit: int | None = None,
        for_update: bool = False,
        offset: int | None = None,
    ) -> list[Any]:
        """Rows matching `where`, after writing pending changes so queries see them."""
        self.flush()
        query = select(mapper.table).where(*where)
        if isinstance(order_by, tuple):
            query = query.order_by(*order_by)
        elif order_by is not None:
            query = query.order_by(order_by)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        if for_update:
            query = query.with_for_update(skip_locked=True)
        return [self._load(mapper, dict(row)) for row in self._run(query).mappings()]

    def _load(self, mapper: RowMapper[Any], row: dict[str, Any]) -> Any:
        key = (mapper.table.name, row["id"])
        tracked = self._tracked.get(key)
        if tracked is None:
            item = mapper.from_row(mapper.unseal(row))
            version = row.get("version", 0)
            # A stale row (sealed under an old key, or not yet) is written on the next flush
            # even if unchanged: an empty row differs from every row.
            last = {} if mapper.stale(row) else mapper.to_row(item)
            tracked = _Tracked(item, mapper, last, version)
            self._tracked[key] = tracked
        return tracked.item

    def items(self) -> list[Any]:
        """Every record loaded or added in this transaction, in the order first tracked."""
        return [tracked.item for tracked in self._tracked.values()]

    def flush(self) -> None:
        """Write every new or changed record; tracking moves on only once all succeeded."""
        done: list[tuple[_Tracked, dict[str, Any], int]] = []
        for tracked in self._tracked.values():
            row = tracked.mapper.to_row(tracked.item)
            if tracked.row is None:
                done.append((tracked, row, self._insert(tracked, row)))
            elif row != tracked.row:
                done.append((tracked, row, self._update(tracked, row)))
        for tracked, row, version in done:
            tracked.row, tracked.db_version = row, version

    def published(self) -> None:
        """After commit: the in-memory aggregates take the versions now stored."""
        for tracked in self._tracked.values():
            if hasattr(tracked.item, "version"):
                tracked.item.version = tracked.db_version

    def _insert(self, tracked: _Tracked, row: dict[str, Any]) -> int:
        values = {"id": tracked.item.id, **tracked.mapper.seal(row)}
        version = tracked.db_version + 1
        values["version"] = version
        self._run(insert(tracked.mapper.table).values(**values))
        return version

    def _update(self, tracked: _Tracked, row: dict[str, Any]) -> int:
        table = tracked.mapper.table
        statement = update(table).where(table.c.id == tracked.item.id)
        version = tracked.db_version + 1
        statement = statement.where(table.c.version == tracked.db_version)
        result = self._run(statement.values(**tracked.mapper.seal(row), version=version))
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"{tracked.mapper.kind} {tracked.item.id} changed meanwhile")
        return version

    def write(self, statement: Any) -> Any:
        """A statement of the repository's own (a lock, an insert-if-absent)."""
        return self._run(statement)

    def _exists(self, mapper: RowMapper[Any], id: str) -> bool:
        query = select(mapper.table.c.id).where(mapper.table.c.id == id)
        return self._run(query).first() is not None

    def _run(self, statement: Any) -> Any:
        try:
            result = self.connection.execute(statement)
            if not getattr(statement, "is_select", False):
                self.has_written = True
            return result
        except IntegrityError as error:
            raise ConcurrencyConflict("a unique value was taken meanwhile") from error
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error).lower():
                raise WriterBusy("the database is busy with another writer") from error
            raise
