"""The relay's threads for provider calls: up to `in_flight` at once, kept for the relay's life
(not started anew for every batch); with an in-flight limit of 1, each call on the caller's
own thread, in order."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class SendPool:
    def __init__(self, in_flight: int, name: str) -> None:
        self._in_flight, self._name = max(1, in_flight), name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`work` on each item, up to `in_flight` at once; the results in the items' order
        (an exception `work` raises is raised here)."""
        items = list(items)
        if self._in_flight == 1 or len(items) <= 1:
            return [work(item) for item in items]
        return list(self._threads().map(work, items))

    def close(self) -> None:
        """Let the threads end once idle (a relay that is done with)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._in_flight, thread_name_prefix=f"{self._name}-send"
                )
            return self._pool
