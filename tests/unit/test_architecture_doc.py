"""docs/architecture.md walks through the code by file name: every file it names exists, so a
move that would leave the walk wrong fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
SOURCE = ROOT / "src" / "justdriving"


def test_every_file_the_architecture_walks_name_exists() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"[\w/]+\.py\b", page))
    by_name = {path.name for path in SOURCE.rglob("*.py")}

    missing = sorted(
        name
        for name in named
        if not ((SOURCE / name).is_file() if "/" in name else name in by_name)
    )

    assert len(named) > 30
    assert missing == []
