"""Many threads syncing one organisation through one XeroRateLimiter stay inside the limits the
Xero simulator enforces exactly, and lose almost no time to them (simulated time: the minutes
of waiting take none of the test's)."""

from __future__ import annotations

import queue
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.limits import MARGIN, XeroRateLimiter
from justdriving.domain.accounting import AccountingContact
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator

CALLS = 130  # crosses the minute window twice: the fastest pace puts the last call at 120 s


def test_eight_threads_keep_within_xeros_limits_without_a_429(
    figures: Callable[[str], None],
) -> None:
    time = SimulatedTime(datetime(2025, 3, 14, 9, 0, tzinfo=UTC))
    jobs: queue.Queue[int] = queue.Queue()
    for n in range(CALLS):
        jobs.put(n)
    with XeroSimulator(clock=time.now, latency=0.01) as xero:
        limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
        client = XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            xero.tenant_id,
            RecordingGrants(xero.grant()),
            api_base=xero.base_url,
            identity_base=xero.base_url,
            clock=time.now,
            limiter=limiter,
        )
        finished: list[float] = []

        def worker() -> None:
            while True:
                try:
                    n = jobs.get_nowait()
                except queue.Empty:
                    return
                [result] = client.upsert_contacts([AccountingContact(f"s{n}", f"S {n}")], f"k{n}")
                assert result.ok
                finished.append(time.monotonic())

        time.run_together([worker] * 8)
        client.close()
    taken = max(finished)
    figures(
        f"{xero.quota.calls} calls in {taken:.1f} simulated s (minimum 120), "
        f"{xero.quota.throttled_total} 429s, max in flight {xero.quota.max_concurrency}"
    )
    assert xero.quota.calls == CALLS
    assert xero.quota.throttled_total == 0
    assert xero.quota.busiest_minute == 60
    assert 2 <= xero.quota.max_concurrency <= 5
    assert taken == pytest.approx(120 + 2 * MARGIN)
