"""Accounting sync against Xero's rate limit: how close the XeroRateLimiter gets to the fastest
pace Xero's limits allow, without a single 429.

    .venv/bin/python -m benchmarks.accounting_sync [--invoices 1000] [--students 400]
        [--workers 8] [--real-time] [--no-docs]

The XeroAccountingClient (httpx, the real adapter) pushes to the Xero simulator, which enforces
Xero's per-organisation limits exactly (5 concurrent calls, 60 per rolling minute, 5,000 a day)
and answers 429 beyond them. `workers` threads share one client and one XeroRateLimiter and
take batches of 50 from a queue, phase by phase (contacts before the invoices that name them,
invoices before their payments and credit notes). Scenarios:

- `invoices`: 1,000 invoices plus their contacts (the question asked);
- `invoices, batch 10`: the same in batches of 10;
- `full sync`: also a payment per invoice and a credit note (allocated) for every tenth.

Both the simulator and the limiter run on simulated time (justdriving.testing.xero.clock): a
minute of waiting for the window takes no real time, and time moves only when every worker
waits. Each call takes no simulated time (its real time is in the wall-clock column): at Xero's
usual 0.3-1 s per call, 5 in flight allow 5-15 calls a second, far above 1 a second, so the
minute window is the limit that binds. The fastest pace it allows: call k (from 0) starts no
sooner than 60 * floor(k / 60) seconds, so N calls need 60 * floor((N - 1) / 60) s.
Reported: calls, that minimum, the simulated time taken, their ratio (goal ≤ 1.05), 429s
received (goal 0), the most calls in any rolling minute and in flight at once, and wall time.
`--real-time` runs on the real clock instead (minutes). Writes the section "Accounting sync
against Xero's rate limit" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attrs import define

from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.limits import MARGIN, XeroRateLimiter
from justdriving.adapters.memory import MemoryStore, MemoryUnitOfWorkFactory
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    PushResult,
)
from justdriving.domain.money import Money
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.simulator import XeroSimulator

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Accounting sync against Xero's rate limit"
COMMAND = ".venv/bin/python -m benchmarks.accounting_sync"
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
LESSON = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "200", "U25", True)
REFUND = AccountingLine("Refund: part of a lesson", 1, Money(10000, "DKK"), "200", "U25", True)


# Time: simulated (every worker takes part) or real.


class Clocks:
    def __init__(self, real: bool) -> None:
        self.real = real
        self.simulated = SimulatedTime(START)

    def now(self) -> datetime:
        return datetime.now(UTC) if self.real else self.simulated.now()

    def monotonic(self) -> float:
        return time.monotonic() if self.real else self.simulated.monotonic()

    def sleep(self, seconds: float) -> None:
        (time.sleep if self.real else self.simulated.sleep)(seconds)

    def run_together(self, work: Sequence[Callable[[], object]]) -> None:
        if not self.real:
            self.simulated.run_together(work)
            return
        threads = [threading.Thread(target=w) for w in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


# The sync.


@define
class Scenario:
    name: str
    batch: int
    full: bool  # payments and credit notes too


@define
class Result:
    scenario: Scenario
    calls: int
    minimum: float
    taken: float
    throttled: int
    busiest_minute: int
    max_concurrency: int
    limiter_waits: int
    refused: int
    wall: float

    @property
    def ratio(self) -> float | None:
        return self.taken / self.minimum if self.minimum else None


def minimum_time(calls: int, per_minute: int = 60) -> float:
    return 60.0 * ((calls - 1) // per_minute) if calls else 0.0


def batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class Sync:
    """Pushes one school's records, phase by phase, with `workers` threads and one client."""

    def __init__(self, client: XeroAccountingClient, clocks: Clocks, workers: int) -> None:
        self.client, self.clocks, self.workers = client, clocks, workers
        self.results: list[PushResult] = []
        self.finished = 0.0
        self._lock = threading.Lock()

    def phase(
        self, name: str, push: Callable[[list[Any], str], list[PushResult]], jobs: list[list[Any]]
    ) -> list[PushResult]:
        work: queue.Queue[tuple[int, list[Any]]] = queue.Queue()
        for number, job in enumerate(jobs):
            work.put((number, job))
        done: dict[int, list[PushResult]] = {}

        def worker() -> None:
            while True:
                try:
                    number, job = work.get_nowait()
                except queue.Empty:
                    return
                results = push(job, f"bench:{name}:{number}")
                with self._lock:
                    done[number] = results
                    self.finished = max(self.finished, self.clocks.monotonic())

        self.clocks.run_together([worker] * self.workers)
        ordered = [r for number in sorted(done) for r in done[number]]
        self.results += ordered
        return ordered


def records(
    invoices: int, students: int
) -> tuple[list[AccountingContact], list[AccountingInvoice]]:
    contacts = [
        AccountingContact(f"stu_{n}", f"Student {n}", f"s{n}@example.dk") for n in range(students)
    ]
    issued = START - timedelta(days=1)
    documents = [
        AccountingInvoice(
            f"inv_{n}",
            f"2025-{n:05d}",
            f"stu_{n % students}",
            issued,
            issued + timedelta(days=14),
            "DKK",
            (LESSON,),
        )
        for n in range(invoices)
    ]
    return contacts, documents


def settlements(
    invoices: Sequence[AccountingInvoice], ids: Sequence[str]
) -> tuple[list[AccountingPayment], list[AccountingCreditNote]]:
    """400 kr. paid on every invoice, and 100 kr. credited on every tenth (which settles it)."""
    payments = [
        AccountingPayment(f"pay_{n}", ids[n], Money(40000, "DKK"), START, f"pi_{n}")
        for n in range(len(ids))
    ]
    notes = [
        AccountingCreditNote(
            f"cn_{n}", f"CN-{n:05d}", invoices[n].contact_id, ids[n], START, "DKK", (REFUND,)
        )
        for n in range(0, len(ids), 10)
    ]
    return payments, notes


def run(scenario: Scenario, options: argparse.Namespace) -> Result:
    clocks = Clocks(options.real_time)
    contacts, invoices = records(options.invoices, options.students)
    began = time.monotonic()
    with XeroSimulator(clock=clocks.now, latency=options.latency) as xero:
        grants = StoredGrants(MemoryUnitOfWorkFactory(MemoryStore()))
        grants.save(xero.grant())
        limiter = XeroRateLimiter(monotonic=clocks.monotonic, sleep=clocks.sleep)
        client = XeroAccountingClient(
            xero.client_id, xero.client_secret, xero.tenant_id, grants,
            api_base=xero.base_url, identity_base=xero.base_url, limiter=limiter,
            clock=clocks.now, payment_account_code="090", max_batch=50,
        )  # fmt: skip
        start = clocks.monotonic()
        sync = Sync(client, clocks, options.workers)
        sync.phase("contacts", client.upsert_contacts, batches(contacts, scenario.batch))
        pushed = sync.phase("invoices", client.push_invoices, batches(invoices, scenario.batch))
        if scenario.full:
            payments, notes = settlements(invoices, [str(r.external_id) for r in pushed])
            sync.phase("payments", client.push_payments, batches(payments, scenario.batch))
            sync.phase("credit_notes", client.push_credit_notes, batches(notes, scenario.batch))
        client.close()
        calls = xero.quota.calls
        return Result(
            scenario,
            calls=calls,
            minimum=minimum_time(calls),
            taken=sync.finished - start,
            throttled=xero.quota.throttled_total,
            busiest_minute=xero.quota.busiest_minute,
            max_concurrency=xero.quota.max_concurrency,
            limiter_waits=limiter.waits(xero.tenant_id),
            refused=sum(1 for r in sync.results if not r.ok),
            wall=time.monotonic() - began,
        )


# Report.

HEADER = (
    "scenario", "batch", "calls", "minimum s", "taken s", "taken ÷ minimum", "429s",
    "busiest minute", "max in flight", "limiter waits", "refused", "wall s",
)  # fmt: skip


def cells(result: Result) -> list[str]:
    ratio = "—" if result.ratio is None else f"{result.ratio:.3f}"
    return [
        result.scenario.name,
        str(result.scenario.batch),
        str(result.calls),
        f"{result.minimum:.0f}",
        f"{result.taken:.1f}",
        ratio,
        str(result.throttled),
        str(result.busiest_minute),
        str(result.max_concurrency),
        str(result.limiter_waits),
        str(result.refused),
        f"{result.wall:.1f}",
    ]


def table(results: list[Result]) -> str:
    rows = [list(HEADER), *(cells(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def describe(options: argparse.Namespace) -> str:
    clock = "the real clock" if options.real_time else "simulated time"
    return (
        f"{options.invoices} invoices (one line each) for {options.students} students, DKK; "
        f"{options.workers} worker threads sharing one XeroAccountingClient and one "
        f"XeroRateLimiter (margin {MARGIN} s), on {clock}; the Xero simulator enforces 5 "
        f"concurrent, 60 a rolling minute, 5,000 a day, and takes {options.latency * 1000:.0f} ms "
        "of real time per call so that calls overlap. `full sync` adds a payment of 400 kr. "
        "per invoice (a GET of the batch's invoices, then a POST) and a 100 kr. credit note for "
        "every tenth (GET, POST, then one PUT allocation per note). Calls count the API calls "
        "Xero admitted (the token endpoint is not rate-limited); minimum = 60 * floor((calls - "
        "1) / 60) s, the start of the last call at the fastest pace the minute window allows; "
        "taken = simulated time until the last answer."
    )


def write_docs(results: list[Result], options: argparse.Namespace) -> None:
    section = "\n".join(
        [
            SECTION,
            "",
            f"Command: `{COMMAND}` (`--help` for the options; `--real-time` runs it on the real "
            f"clock, in minutes); also part of `.venv/bin/python -m benchmarks` (`make bench`).",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}.",
            "",
            describe(options),
            "",
            table(results),
            "",
            "- 1,000 invoices and their contacts in batches of 50 are only "
            f"{results[0].calls} calls: they fit inside one minute's 60, so the limit does not "
            "bind (no ratio). Smaller batches, or payments and credit notes (an allocation is "
            "one call per note), cross the window; the ratio then shows what the limiter costs "
            f"beyond the minimum: its {MARGIN} s margin per window (our clock and Xero's differ "
            "by the network's latency).",
            "",
        ]
    )
    DOCS.parent.mkdir(exist_ok=True)
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else "\n" + text[end + 1 :])
    DOCS.write_text(text.rstrip("\n") + "\n")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.accounting_sync",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--students", type=int, default=400)
    parser.add_argument("--workers", type=int, default=8, help="threads sharing the client")
    parser.add_argument("--latency", type=float, default=0.005, help="real seconds per call")
    parser.add_argument("--real-time", action="store_true", help="the real clock (minutes)")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


SCENARIOS = [
    Scenario("invoices", 50, full=False),
    Scenario("invoices, batch 10", 10, full=False),
    Scenario("full sync", 50, full=True),
]


def main(argv: list[str] | None = None) -> None:
    options = parse(argv if argv is not None else [])
    results = []
    for scenario in SCENARIOS:
        results.append(run(scenario, options))
        print(" | ".join(cells(results[-1])), flush=True)
    print()
    print(table(results))
    if not options.no_docs:
        write_docs(results, options)
        print(f"\nwrote {DOCS} ({SECTION[3:]})")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
