"""One transaction's identity map: loads rows once, writes what changed, checks versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define
from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause, ColumnElement, TextClause

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
        table = mapper.table
        self._flush_some(lambda tracked: tracked.mapper.table is table)
        row = self._run(_statement(table, "by id"), {"id": id}).mappings().first()
        return None if row is None else self._load(mapper, dict(row))

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
        self._flush_for(mapper.table, where)
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

    def _flush_for(self, table: Table, where: tuple[ColumnElement[bool], ...]) -> None:
        """Write what a query of `table` filtered by `where` could see: that table's changed
        records when the filter names no other table, else everything."""
        if not _only(table, where):
            self.flush()
            return
        self._flush_some(lambda tracked: tracked.mapper.table is table)

    def flush_where(self, mapper: RowMapper[Any], could_match: Callable[[Any], bool]) -> None:
        """Write the changed records of `mapper` for which `could_match(record)`: the only
        ones a query of the repository's own (a count, say) could see differently."""
        self._flush_some(lambda t: t.mapper is mapper and could_match(t.item))

    def _flush_some(self, chosen: Callable[[_Tracked], bool]) -> None:
        """Write the changed records `chosen`, or everything while a new record awaits its
        INSERT (it may be another's foreign key). A transaction holding many records (the
        relay's batch) then does not compare them all before every query."""
        tracked_ = self._tracked.values()
        if any(tracked.row is None for tracked in tracked_):
            self.flush()
            return
        done: list[tuple[_Tracked, dict[str, Any], int]] = []
        for tracked in tracked_:
            if chosen(tracked):
                row = tracked.mapper.to_row(tracked.item)
                if row != tracked.row:
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
        sealed = tracked.mapper.seal(row)
        version = tracked.db_version + 1
        values = {f"new_{name}": value for name, value in sealed.items()}
        statement = _statement(tracked.mapper.table, "update", tuple(sealed))
        current = {"row_id": tracked.item.id, "was": tracked.db_version}
        result = self._run(statement, {**current, **values, "new_version": version})
        if result.rowcount != 1:
            raise ConcurrencyConflict(f"{tracked.mapper.kind} {tracked.item.id} changed meanwhile")
        return version

    def write(self, statement: Any) -> Any:
        """A statement of the repository's own (a lock, an insert-if-absent)."""
        return self._run(statement)

    def _exists(self, mapper: RowMapper[Any], id: str) -> bool:
        query = select(mapper.table.c.id).where(mapper.table.c.id == id)
        return self._run(query).first() is not None

    def _run(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        try:
            result = self.connection.execute(statement, parameters)
            if not getattr(statement, "is_select", False):
                self.has_written = True
            return result
        except IntegrityError as error:
            raise ConcurrencyConflict("a unique value was taken meanwhile") from error
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error).lower():
                raise WriterBusy("the database is busy with another writer") from error
            raise


def _only(table: Table, where: tuple[ColumnElement[bool], ...]) -> bool:
    """Whether `where` reads no table but `table` (no raw SQL text either)."""
    for clause in where:
        for element in visitors.iterate(clause):
            if isinstance(element, TextClause):
                return False
            if isinstance(element, ColumnClause) and element.table is not table:
                return False
    return True


_STATEMENTS: dict[tuple[Table, str, tuple[str, ...]], Any] = {}


def _statement(table: Table, kind: str, columns: tuple[str, ...] = ()) -> Any:
    """A statement built once per process and run with parameters: a row by id, or the
    versioned UPDATE of `columns` (building one anew costs more than running it)."""
    key = (table, kind, columns)
    statement = _STATEMENTS.get(key)
    if statement is None:
        if kind == "by id":
            statement = select(table).where(table.c.id == bindparam("id"))
        else:
            new = {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns}
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"), table.c.version == bindparam("was"))
                .values(**new, version=bindparam("new_version"))
            )
        _STATEMENTS[key] = statement
    return statement
