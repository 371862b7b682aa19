"""Crash and resume on the SQL unit of work (SQLite always, PostgreSQL when present): the sync
killed at hypothesis-chosen points and restarted until done pushes every record exactly once,
and its sync records and runs survive the round trip through the database (a re-run skips
everything: the fingerprints read back equal those written)."""

from __future__ import annotations

from conftest import Database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration_support import NOW

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.services.accounting.sync import AccountingSync
from unit.services.test_accounting_fixtures import (
    CALL_MODES,
    COMMIT_MODES,
    NO_WAIT,
    assert_pushed_exactly_once,
    busy_school,
    sync_until_done,
)

events_strategy = st.dictionaries(
    st.tuples(st.sampled_from(["call", "commit"]), st.integers(1, 10)),
    st.sampled_from(CALL_MODES + COMMIT_MODES),
    max_size=4,
).map(
    lambda events: {
        point: mode
        for point, mode in events.items()
        if mode in (CALL_MODES if point[0] == "call" else COMMIT_MODES)
    }
)


def sql_app(database: Database, clock: FrozenClock) -> Application:
    return Application(
        uow=database.uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events_strategy)
def test_a_sync_killed_anywhere_on_sql_and_restarted_pushes_every_record_exactly_once(
    database: Database, events: dict[tuple[str, int], str]
) -> None:
    clock = FrozenClock(NOW)
    books = busy_school(sql_app(database, clock))  # a school of its own per example
    fake = FakeAccountingClient(max_batch=2)

    run, client, _ = sync_until_done(database.uow, clock, books.school.id, events, fake)

    assert run.failures == ()
    assert_pushed_exactly_once(database.uow, books, fake, client)
    again = AccountingSync(database.uow, clock, fake, retry=NO_WAIT).run(books.school.id)
    assert (again.pushed, again.skipped, again.failures) == (0, books.records, ())
    with database.uow() as uow:
        [latest, *_] = uow.sync_runs.latest(fake.name, books.school.id, 5)
    assert (latest.id, latest.skipped, latest.watermark) == (again.id, 14, again.started_at)
