"""A deferred outbox row (put back untried until a time) is counted as deferred, not failed,
and is due again at its time, alike on every backend."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from test_persistence_contract import T0, an_outbox_message, ids

from justdriving.domain.outbox import OutboxStatus

if TYPE_CHECKING:
    from conftest import PersistenceBackend


def test_a_deferred_row_is_counted_as_deferred_and_due_again_at_its_time(
    persistence: PersistenceBackend,
) -> None:
    row = an_outbox_message()
    with persistence.uow() as uow:
        uow.outbox.add(row)
        uow.commit()
    with persistence.uow() as uow:
        [claimed] = uow.outbox.claim("w1", T0, timedelta(minutes=2), 10)
        claimed.release(T0 + timedelta(hours=8))
        uow.commit()
    with persistence.uow() as uow:
        assert uow.outbox.counts() == {"deferred": 1}
        assert ids(uow.outbox.list("deferred")) == [row.id]
        assert uow.outbox.get(row.id).attempts == 0
        assert ids(uow.outbox.due(T0 + timedelta(hours=7), 10)) == []
        assert ids(uow.outbox.due(T0 + timedelta(hours=8), 10)) == [row.id]
        assert uow.outbox.get(row.id).status is OutboxStatus.DEFERRED
