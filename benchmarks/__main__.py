"""Run every benchmark: `python -m benchmarks` (what `make bench` does).

Each benchmark module has `main(argv)`; run one with its own options, e.g.
`python -m benchmarks.relay --help`.
"""

from __future__ import annotations

import sys
import time

from benchmarks import accounting_sync, relay

BENCHMARKS = {"relay": relay.main, "accounting_sync": accounting_sync.main}


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
