"""Relay workers killed with SIGKILL at random moments lose no message.

A few hundred messages are queued; a worker process (relay_worker.py: the relay with HTTP
senders and a 1 s lease) relays them to a local HTTP provider that records every request's
idempotency key and which worker incarnation sent it. Each incarnation is killed at a random
moment once it has started sending, and a new one started, twenty times over; the last one is
left to finish. Then:

- every outbox row is SENT and every message reached the provider, under its own key;
- a message reached the provider more than once only when a kill fell between the provider's
  answer and our commit: every repeated request but the last is the *last* request of an
  incarnation that was killed (the relay works one row at a time, so a kill strands at most
  the row in hand), hence at most one repeat per kill;
- a provider that honours idempotency keys sent each message once (a repeat always carries
  the same key, and the same content).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

from conftest import Database
from integration_support import (
    NOW,
    ProviderRequest,
    ProviderServer,
    message_statuses,
    outbox_statuses,
    queue_announcements,
)

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.messages import MessageStatus
from justdriving.domain.outbox import OutboxStatus
from waiting import wait_for

KILLS = 20
STUDENTS = 200  # an SMS and an email each: 400 messages
PROVIDER_LATENCY = 0.002
KILL_WITHIN = 0.06  # seconds after an incarnation's first request
WORKER = Path(__file__).with_name("relay_worker.py")


class Workers:
    """Starts relay_worker.py incarnations; their output goes to files in `folder`."""

    def __init__(self, database: Database, provider: str, folder: Path) -> None:
        self._url, self._provider, self._folder = database.url, provider, folder

    def start(self, incarnation: int) -> subprocess.Popen[bytes]:
        log = (self._folder / f"worker_{incarnation}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, str(WORKER), self._url, self._provider, str(incarnation)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=WORKER.parent,
        )

    def output(self, incarnation: int) -> str:
        return (self._folder / f"worker_{incarnation}.log").read_text(errors="replace")[-3000:]


def _started(server: ProviderServer, worker: subprocess.Popen[bytes], incarnation: int) -> bool:
    """The incarnation has sent its first request (or has died, which the caller reports)."""
    mark = str(incarnation)
    sent = any(request.incarnation == mark for request in server.seen())
    return sent or worker.poll() is not None


def test_workers_killed_at_random_moments_lose_no_message_and_repeat_only_the_one_in_hand(
    database: Database, tmp_path: Path, figures: Callable[[str], None]
) -> None:
    clock = FrozenClock(NOW)
    app = Application(
        uow=database.uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    message_ids = set(queue_announcements(database.uow, clock, app, STUDENTS))
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    started = time.monotonic()

    with ProviderServer(latency=PROVIDER_LATENCY) as server:
        workers = Workers(database, server.url, tmp_path)
        for incarnation in range(KILLS):
            worker = workers.start(incarnation)
            try:
                wait_for(
                    partial(_started, server, worker, incarnation),
                    f"incarnation {incarnation} to send (seed {seed}; too few messages left?)",
                    30,
                    interval=0.005,
                )
                assert worker.poll() is None, workers.output(incarnation)
                time.sleep(rng.uniform(0, KILL_WITHIN))
            finally:
                worker.kill()
                worker.wait()
        left = len(message_ids) - len({request.key for request in server.seen()})
        last = workers.start(KILLS)
        try:
            wait_for(
                lambda: (
                    outbox_statuses(database.uow) == {OutboxStatus.SENT: len(message_ids)}
                    or last.poll() is not None
                ),
                f"the last worker to finish (seed {seed})",
                60,
            )
            assert last.poll() is None, workers.output(KILLS)
        finally:
            last.kill()
            last.wait()
        requests = server.seen()

    by_key: dict[str, list[int]] = defaultdict(list)  # key -> indexes of its requests
    last_of: dict[str, int] = {}  # incarnation -> index of its last request
    for index, request in enumerate(requests):
        by_key[request.key].append(index)
        last_of[request.incarnation] = index
    repeated = {key: indexes for key, indexes in by_key.items() if len(indexes) > 1}
    extra = sum(len(indexes) - 1 for indexes in repeated.values())
    figures(
        f"seed {seed}: {KILLS} kills, {len(message_ids)} messages, {len(requests)} requests, "
        f"{len(repeated)} keys seen more than once ({extra} extra sends), "
        f"{left} messages left untouched for the last worker, "
        f"{time.monotonic() - started:.1f} s"
    )

    assert outbox_statuses(database.uow) == {OutboxStatus.SENT: len(message_ids)}
    assert message_statuses(database.uow, message_ids) == {MessageStatus.SENT: len(message_ids)}
    assert set(by_key) == message_ids, "every message reached the provider, under its own key"
    for key, indexes in repeated.items():
        for index in indexes[:-1]:
            sender = requests[index].incarnation
            assert sender != str(KILLS), f"{key}: the worker that was never killed sent it twice"
            assert last_of[sender] == index, (
                f"{key} was sent again although incarnation {sender} went on to send "
                f"{_after(requests, index, sender)} more before it was killed (seed {seed})"
            )
        assert len({requests[index].body for index in indexes}) == 1, f"{key} changed"
    assert extra <= KILLS


def _after(requests: list[ProviderRequest], index: int, incarnation: str) -> int:
    return sum(1 for r in requests[index + 1 :] if r.incarnation == incarnation)
