"""Session-wide: every simulator exchange is checked against the provider's published spec.

The contract and integration conftests import these hooks (a conftest.py in tests/ itself
would shadow theirs for `from conftest import ...`). See tests/spec_fidelity.py. The session
fails when any recorded request, response or webhook of a held provider is invalid and not
covered by the reviewed allow-list (tests/specs/allowed.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from justdriving.testing.exchanges import listen
from live_recording import record_live
from spec_fidelity import (
    Fidelity,
    held_failures,
    summary_lines,
    write_exchanges,
    write_figures,
)

_fidelity = Fidelity()
_stop = listen(_fidelity.hear)
_failed: list[str] = []
_LINES = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Each exchange is tagged with its test; a `sandbox` test's live traffic is recorded."""
    _fidelity.current_test = item.nodeid
    live = record_live() if item.get_closest_marker("sandbox") else contextlib.nullcontext()
    marker = item.get_closest_marker("off_spec")
    if marker is not None:
        _fidelity.off_spec[item.nodeid] = tuple(marker.kwargs.get("parts", ("webhook",)))
    try:
        with live:
            return (yield)
    finally:
        _fidelity.current_test = ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _LINES in session.config.stash:  # both conftests import this hook: report once
        return
    session.config.stash[_LINES] = []
    _stop()
    if not _fidelity.heard:
        return
    figures, failures = _fidelity.report()
    write_figures(figures, failures)
    write_exchanges(_fidelity.heard)
    failing = held_failures(failures)
    _failed[:] = failing
    session.config.stash[_LINES] = summary_lines(figures, failing) + (
        [f"{len(failures) - len(failing)} problems of providers not yet held (not failing)"]
        if len(failures) > len(failing)
        else []
    )
    if failing and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(_LINES, [])
    if not lines:
        return
    terminalreporter.config.stash[_LINES] = []  # once, though two conftests import this hook
    title = "simulator exchanges vs providers' specs"
    terminalreporter.write_sep("=", title + (" (INVALID)" if _failed else ""))
    for line in lines:
        terminalreporter.write_line(line)
