"""Failures queued by tests for the next calls of a fake: a fake that never fails lies."""

from __future__ import annotations

from collections import deque

from justdriving.domain.errors import ProviderUnavailable


class FailureQueue:
    """Errors to raise on the next calls, in order.

    A ProviderUnavailable with `possibly_done=True` is the ambiguous outcome: the fake does the
    work and then raises, as a provider does when the response is lost after it acted.
    """

    def __init__(self) -> None:
        self._errors: deque[Exception] = deque()

    def push(self, error: Exception) -> None:
        self._errors.append(error)

    def take(self) -> Exception | None:
        """Raise the next error now, or return it when it must be raised after the work."""
        if not self._errors:
            return None
        error = self._errors.popleft()
        if isinstance(error, ProviderUnavailable) and error.possibly_done:
            return error
        raise error

    def __len__(self) -> int:
        return len(self._errors)
