"""Fault campaign fixtures: the scale (JUSTDRIVING_CAMPAIGN_SCALE, default 1 = CI size) and
the figures each campaign measured, printed in the terminal summary ("reliability figures")."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .support import campaign_scale

_FIGURES: list[str] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`figures("...")` adds a line, under the test's name, to the terminal summary."""

    def report(line: str) -> None:
        _FIGURES.append(f"{request.node.name}: {line}")

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section(f"reliability figures (scale {campaign_scale()})")
        for line in _FIGURES:
            terminalreporter.write_line(line)
