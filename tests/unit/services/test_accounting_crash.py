"""Crash and resume: the sync killed at any point (before a provider call, after the provider
booked a batch but before our commit, at or after any commit, or with the provider's answer
lost) and restarted until it finishes, ends with every record pushed exactly once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.services.accounting.sync import AccountingSync

from .support import NOW
from .test_accounting_fixtures import (
    CALL_MODES,
    COMMIT_MODES,
    NO_WAIT,
    assert_pushed_exactly_once,
    busy_school,
    sync_until_done,
)

# The busy school at 2 records a batch: 8 provider calls and 9 commits when nothing fails.
crash_points = st.dictionaries(
    st.one_of(
        st.tuples(st.just("call"), st.integers(1, 10)),
        st.tuples(st.just("commit"), st.integers(1, 11)),
    ),
    st.sampled_from(CALL_MODES + COMMIT_MODES),
    max_size=5,
)


def memory_app(store: MemoryStore, clock: FrozenClock) -> Application:
    return Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


def only_matching(events: dict[tuple[str, int], str]) -> dict[tuple[str, int], str]:
    """A call dies in a call mode, a commit in a commit mode."""
    modes = {"call": CALL_MODES, "commit": COMMIT_MODES}
    return {point: mode for point, mode in events.items() if mode in modes[point[0]]}


@settings(max_examples=150, deadline=None)
@given(events=crash_points.map(only_matching))
def test_a_sync_killed_anywhere_and_restarted_pushes_every_record_exactly_once(
    events: dict[tuple[str, int], str],
) -> None:
    store, clock = MemoryStore(), FrozenClock(NOW)
    books = busy_school(memory_app(store, clock))
    uow = MemoryUnitOfWorkFactory(store)
    fake = FakeAccountingClient(max_batch=2)

    run, client, _ = sync_until_done(uow, clock, books.school.id, events, fake)

    assert run.failures == ()
    assert_pushed_exactly_once(uow, books, fake, client)
    again = AccountingSync(uow, clock, fake, retry=NO_WAIT).run(books.school.id)
    assert (again.pushed, again.skipped, again.failures) == (0, books.records, ())


def test_the_crash_points_are_real_a_clean_run_makes_8_calls_and_9_commits() -> None:
    store, clock = MemoryStore(), FrozenClock(NOW)
    books = busy_school(memory_app(store, clock))
    uow = MemoryUnitOfWorkFactory(store)
    fake = FakeAccountingClient(max_batch=2)

    run, client, crashes = sync_until_done(uow, clock, books.school.id, {}, fake)

    assert (run.pushed, crashes) == (14, 0)
    assert dict(client.schedule.counts) == {"call": 8, "commit": 9}


def test_a_crash_after_the_provider_booked_a_batch_replays_it_under_the_same_key() -> None:
    store, clock = MemoryStore(), FrozenClock(NOW)
    books = busy_school(memory_app(store, clock))
    uow = MemoryUnitOfWorkFactory(store)
    fake = FakeAccountingClient(max_batch=2)

    run, client, crashes = sync_until_done(
        uow, clock, books.school.id, {("call", 3): "after_call"}, fake
    )

    assert crashes == 1
    assert fake.calls[2] == fake.calls[3]  # the first batch of invoices, sent again
    assert run.pushed == 14 - 2 - 2  # the two batches of contacts were committed before
    assert_pushed_exactly_once(uow, books, fake, client)
