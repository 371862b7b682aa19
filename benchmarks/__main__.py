"""Run every benchmark: `python -m benchmarks` (what `make bench` does).

Each benchmark module has `main(argv)`; run one with its own options, e.g.
`python -m benchmarks.relay --help`.
"""

from __future__ import annotations

import sys
import time

from benchmarks import (
    accounting_sync,
    cold_start,
    relay,
    relay_celery,
    relay_limit,
    reminders_due,
    scale,
    webhook_ingest,
)

BENCHMARKS = {
    "relay": relay.main,
    # (d): the relay against a Celery task per message, on Redis DB 6 (BENCH_BROKER).
    "relay_celery": relay_celery.main,
    "accounting_sync": accounting_sync.main,
    "webhook_ingest": webhook_ingest.main,
    "relay_limit": relay_limit.main,
    "cold_start": cold_start.main,
    # 10,000, 100,000 and 1,000,000 bookings: about a minute more than without --full.
    "scale": lambda argv: scale.main(["--full", *argv]),
    # 10,000, 100,000 and 1,000,000 bookings on PostgreSQL: loading them takes a minute or two.
    "reminders_due": reminders_due.main,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in chosen:
        began = time.monotonic()
        print(f"== {name}")
        BENCHMARKS[name]([])
        print(f"== {name}: {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
