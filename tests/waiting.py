"""Polling for the tests that watch other threads or processes: one `wait_for` for all."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = 10.0, interval: float = 0.05
) -> None:
    """Poll `condition` until it holds; fail the test, naming `what`, after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout} s")
        time.sleep(interval)
