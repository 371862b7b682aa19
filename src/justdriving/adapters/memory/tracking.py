"""What one unit of work has read and added from one table: working copies and their origin."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import attrs

from justdriving.adapters.memory.store import MemoryStore, Stored, Write
from justdriving.domain.entity import Entity
from justdriving.domain.errors import DuplicateRecord, NotFound
from justdriving.domain.events import EventLog

E = TypeVar("E", bound=Entity)

# Fields that do not make a record changed: the version is ours, events are not stored.
_UNTRACKED = frozenset({"version", "events"})


@runtime_checkable
class Versioned(Protocol):
    version: int


@attrs.define
class Entry(Generic[E]):
    """A working copy; `origin` is the stored record it was copied from (None when added)."""

    record: E
    origin: Entity | None
    revision: int
    seen: int  # when the unit of work first tracked it, across all its tables


def state(record: Entity) -> tuple[object, ...]:
    """What a record holds, for telling a changed record from an untouched one."""
    fields = attrs.fields(cast(Any, type(record)))
    return tuple(getattr(record, f.name) for f in fields if f.name not in _UNTRACKED)


def snapshot(record: E, revision: int) -> E:
    """A private copy to store: its version set, its pending events left behind."""
    stored = copy.deepcopy(record)
    if isinstance(stored, Versioned):
        stored.version = revision
    events = getattr(stored, "events", None)
    if isinstance(events, EventLog):
        events.drain()
    return stored


class Table(Generic[E]):
    """The identity map of one table: the same id gives the same working object."""

    def __init__(self, store: MemoryStore, name: str, kind: str, order: Iterator[int]) -> None:
        self._store, self.name, self.kind = store, name, kind
        self._order = order  # shared by the unit of work's tables
        self._entries: dict[str, Entry[E]] = {}

    def add(self, record: E) -> None:
        if record.id in self._entries or self._store.read(self.name, record.id) is not None:
            raise DuplicateRecord(f"{self.kind} {record.id} already exists")
        self._entries[record.id] = Entry(record, None, 0, next(self._order))

    def tracked(self) -> list[tuple[int, E]]:
        """The working copies, each with when it was first tracked."""
        return [(entry.seen, entry.record) for entry in self._entries.values()]

    def find(self, id: str) -> E | None:
        entry = self._entries.get(id)
        if entry is not None:
            return entry.record
        stored = self._store.read(self.name, id)
        return None if stored is None else self._track(id, stored)

    def get(self, id: str) -> E:
        record = self.find(id)
        if record is None:
            raise NotFound(self.kind, id)
        return record

    def select(
        self, matches: Callable[[E], bool], order: Callable[[E], Any] | None = None
    ) -> list[E]:
        """Records matching, as this unit of work sees them (its own changes included)."""
        found: list[E] = []
        rows = self._store.rows(self.name)
        for id, stored in rows:
            entry = self._entries.get(id)
            if entry is not None:
                if matches(entry.record):
                    found.append(entry.record)
            elif matches(cast(E, stored.record)):
                found.append(self._track(id, stored))
        committed = {id for id, _ in rows}
        found += [
            e.record for id, e in self._entries.items() if id not in committed and matches(e.record)
        ]
        return found if order is None else sorted(found, key=order)

    def purge(self, ids: list[str]) -> int:
        """Delete committed rows at once (not on commit) and forget them here."""
        for id in ids:
            self._entries.pop(id, None)
        return self._store.delete(self.name, ids)

    def lock(self, id: str) -> bool:
        """Hold the row until commit or rollback, as SELECT … FOR UPDATE SKIP LOCKED would."""
        return self._store.lock_row(self.name, id, self)

    def writes(self) -> list[Write]:
        """Records added, or changed since they were read."""
        return [
            Write(self.name, id, snapshot(e.record, e.revision + 1), e.revision or None)
            for id, e in self._entries.items()
            if e.origin is None or state(e.record) != state(e.origin)
        ]

    def published(self, writes: list[Write]) -> None:
        """The writes are committed: they become the origin of further changes."""
        for write in writes:
            entry = self._entries[write.id]
            entry.origin, entry.revision = write.record, entry.revision + 1
            if isinstance(entry.record, Versioned):
                entry.record.version = entry.revision
        self._store.unlock_rows(self)

    def clear(self) -> None:
        self._entries.clear()
        self._store.unlock_rows(self)

    def _track(self, id: str, stored: Stored) -> E:
        record = cast(E, copy.deepcopy(stored.record))
        self._entries[id] = Entry(record, stored.record, stored.revision, next(self._order))
        return record
