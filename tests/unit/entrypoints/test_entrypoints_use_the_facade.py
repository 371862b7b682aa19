"""The entrypoints (views, CLI commands, `run`, `demo`, the worker) act through the
Application's use cases and read models only: none opens a unit of work of its own."""

from __future__ import annotations

import re
from pathlib import Path

ENTRYPOINTS = Path(__file__).parents[3] / "src" / "justdriving" / "entrypoints"


def test_no_entrypoint_opens_a_unit_of_work() -> None:
    opening = re.compile(r"\.uow\(\)|\buow\.(schools|students|invoices|payments|messages)\b")
    found = [
        f"{path.relative_to(ENTRYPOINTS)}:{number}: {line.strip()}"
        for path in sorted(ENTRYPOINTS.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if opening.search(line)
    ]

    assert found == []
