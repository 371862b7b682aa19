"""The in-memory database: committed records per table, guarded by one lock."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

from justdriving.domain.entity import Entity
from justdriving.domain.errors import ConcurrencyConflict

TABLES = (
    "schools",
    "teachers",
    "students",
    "booking_types",
    "bookings",
    "packages",
    "invoices",
    "credit_notes",
    "numbering",
    "payments",
    "refunds",
    "deposits",
    "payment_customers",
    "gateway_credentials",
    "plans",
    "disputes",
    "messages",
    "suppressions",
    "staff_alerts",
    "sync_records",
    "sync_runs",
    "grants",
    "outbox",
    "inbox",
    "webhook_tokens",
)

# Unique constraints besides the id, as a database would declare them.
UNIQUE: dict[str, Callable[[Any], Hashable]] = {
    "inbox": lambda event: (event.provider, event.event_id),
    "deposits": lambda deposit: deposit.booking_id,  # one deposit a booking, as in SQL
    # One school a connected account; a school without one takes no key from another.
    "schools": lambda school: (
        school.connected_account.account_id if school.connected_account else ("none", school.id)
    ),
}


class Stored(NamedTuple):
    """A committed record and its revision (1 on insert, +1 per update). Never mutated."""

    record: Entity
    revision: int


class Write(NamedTuple):
    """One record to publish; `expected` is the revision it was read at, None for an insert."""

    table: str
    id: str
    record: Entity
    expected: int | None


class MemoryStore:
    """Shared by every unit of work of one application (or one test)."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Stored]] = {name: {} for name in TABLES}
        self._lock = threading.RLock()
        self._failure: Exception | None = None
        self._row_locks: dict[tuple[str, str], object] = {}
        self.commits = 0

    def read(self, table: str, id: str) -> Stored | None:
        with self._lock:
            return self._tables[table].get(id)

    def rows(self, table: str) -> list[tuple[str, Stored]]:
        with self._lock:
            return list(self._tables[table].items())

    def count(self, table: str) -> int:
        with self._lock:
            return len(self._tables[table])

    def counts(self) -> dict[str, int]:
        """Records per table, for assertions such as `counts()["outbox"] == 0`."""
        with self._lock:
            return {name: len(rows) for name, rows in self._tables.items()}

    def records(self, table: str) -> list[Any]:
        """Copies of the committed records of a table, for assertions."""
        return [copy.deepcopy(stored.record) for _, stored in self.rows(table)]

    def delete(self, table: str, ids: Sequence[str]) -> int:
        """Remove committed rows; returns how many were there."""
        with self._lock:
            rows = self._tables[table]
            return sum(rows.pop(id, None) is not None for id in ids)

    def lock_row(self, table: str, id: str, owner: object) -> bool:
        """Lock a row for `owner` until it unlocks; False when another owner holds it."""
        with self._lock:
            holder = self._row_locks.setdefault((table, id), owner)
            return holder is owner

    def unlock_rows(self, owner: object) -> None:
        with self._lock:
            for key in [k for k, holder in self._row_locks.items() if holder is owner]:
                del self._row_locks[key]

    def fail_next_commit(self, error: Exception) -> None:
        """The next commit raises `error` and writes nothing."""
        self._failure = error

    def commit(self, writes: Sequence[Write]) -> None:
        """Publish all writes or none: ConcurrencyConflict if any was overtaken."""
        with self._lock:
            if self._failure is not None:
                error, self._failure = self._failure, None
                raise error
            self._check(writes)
            for write in writes:
                revision = (write.expected or 0) + 1
                self._tables[write.table][write.id] = Stored(write.record, revision)
            self.commits += 1

    def _check(self, writes: Sequence[Write]) -> None:
        for write in writes:
            current = self._tables[write.table].get(write.id)
            revision = None if current is None else current.revision
            if revision != write.expected:
                raise ConcurrencyConflict(
                    f"{write.table} {write.id} was changed by another unit of work"
                )
        for table, key in UNIQUE.items():
            self._check_unique(table, key, [w for w in writes if w.table == table])

    def _check_unique(
        self, table: str, key: Callable[[Any], Hashable], writes: Sequence[Write]
    ) -> None:
        written = {w.id for w in writes}
        taken = {key(s.record) for id, s in self._tables[table].items() if id not in written}
        for write in writes:
            if key(write.record) in taken:
                raise ConcurrencyConflict(f"{table} {write.id} duplicates a committed record")
