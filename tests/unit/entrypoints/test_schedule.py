"""The periodic jobs, declared once, and the thread worker that loops over them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.entrypoints.schedule import (
    ACCOUNTING,
    AGENDAS,
    CARD_EXPIRY,
    DEPOSIT_HOLDS,
    DISPATCH,
    INBOX,
    PLANS,
    REMINDERS,
    STAFF_ALERTS,
    PeriodicJob,
    Ran,
    periodic_jobs,
    scheduled,
)
from justdriving.entrypoints.worker import Worker
from memory_app import memory_application
from waiting import wait_for

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_the_list_holds_every_job_in_the_order_a_round_runs_them() -> None:
    jobs = periodic_jobs(reminders_every=60, accounting_every=3600)

    assert [(job.name, job.every) for job in jobs] == [
        (REMINDERS, 60),
        (AGENDAS, 60),
        (STAFF_ALERTS, 300),
        (PLANS, 60),
        (CARD_EXPIRY, 6 * 3600),
        (DEPOSIT_HOLDS, 60),
        (ACCOUNTING, 3600),
        (INBOX, 0),
        (DISPATCH, 0),
    ]


def test_the_accounting_reconciliation_is_scheduled_only_when_the_sync_is_enabled() -> None:
    off = scheduled(Settings())
    on = scheduled(Settings(accounting_sync_enabled=True, accounting_sync_interval=900))

    assert ACCOUNTING not in [job.name for job in off]
    assert [job.every for job in on if job.name == ACCOUNTING] == [900]


def test_the_thread_worker_runs_each_job_when_it_is_due_in_list_order() -> None:
    ran: list[str] = []
    now = [0.0]

    def job(name: str, every: float, busy: bool = False) -> PeriodicJob:
        def run(app: Application) -> Ran:
            ran.append(name)
            return Ran(busy, f"{name} ran")

        return PeriodicJob(name, every, run)

    app = memory_application(FrozenClock(NOW))
    worker = Worker(
        app,
        monotonic=lambda: now[0],
        jobs=[job("hourly", 3600), job("minutely", 60), job("always", 0, busy=True)],
    )

    assert worker.tick() is True  # "always" had work: the next round starts at once
    now[0] = 59.0
    worker.tick()
    now[0] = 60.0
    worker.tick()

    assert ran == ["hourly", "minutely", "always", "always", "minutely", "always"]


def test_a_job_with_no_work_lets_the_worker_rest() -> None:
    app = memory_application(FrozenClock(NOW))

    assert Worker(app, jobs=periodic_jobs()).tick() is False


def test_the_thread_worker_relays_in_a_loop_of_its_own_beside_the_schedules() -> None:
    """`run` relays apart from the other jobs: the relay goes round while a slow schedule is
    still running, and both stop when told to."""
    relayed = threading.Event()
    schedule_started = threading.Event()

    def slow_schedule(app: Application) -> Ran:
        schedule_started.set()
        wait_for(relayed.is_set, "the relay to go round on its own")  # held up until then
        return Ran(False, "slow ran")

    def relay(app: Application) -> Ran:
        if schedule_started.is_set():
            relayed.set()
        return Ran(False, "relay ran")

    app = memory_application(FrozenClock(NOW))
    worker = Worker(
        app,
        idle_sleep=0.01,
        relay_idle_sleep=0.001,
        jobs=[PeriodicJob("slow", 3600, slow_schedule), PeriodicJob(DISPATCH, 0, relay)],
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(relayed.is_set, "the relay to go round while the schedule runs")
    worker.stopping.set()
    # Polled, not joined with a timeout: timed waits hang under libfaketime (see .ci/run).
    wait_for(lambda: not thread.is_alive(), "the worker to stop")
    assert worker.tick() is False  # a round runs every job again, the relay among them


def test_an_error_in_the_relay_loop_stops_the_worker_and_is_raised() -> None:
    def failing_relay(app: Application) -> Ran:
        raise RuntimeError("the database went away")

    app = memory_application(FrozenClock(NOW))
    worker = Worker(
        app,
        idle_sleep=0.01,
        relay_idle_sleep=0.001,
        jobs=[
            PeriodicJob("schedule", 60, lambda app: Ran(False, "ran")),
            PeriodicJob(DISPATCH, 0, failing_relay),
        ],
    )

    with pytest.raises(RuntimeError, match="went away"):
        worker.run()
