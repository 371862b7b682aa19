"""What the views take from the container is made once, on first use, by whichever of the
server's threads asks first; a failed attempt is not remembered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from justdriving.entrypoints.web.wiring import Once, deferred

THREADS = 8


def test_threads_asking_at_once_get_one_object_made_once() -> None:
    made: list[object] = []
    everyone_asked = threading.Barrier(THREADS, timeout=10)

    def make() -> object:
        made.append(object())
        return made[-1]

    once = Once(make)

    def ask() -> object:
        everyone_asked.wait()
        return once()

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(lambda _: ask(), range(THREADS)))

    assert len(made) == 1
    assert {id(g) for g in got} == {id(made[0])}


def test_nothing_is_made_before_the_first_call_and_a_failure_is_tried_again() -> None:
    attempts: list[int] = []

    def make() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("not yet")
        return "made"

    once = Once(make)
    assert attempts == []

    with pytest.raises(ConnectionError):
        once()
    assert once() == "made"
    assert once() == "made"
    assert len(attempts) == 2


def test_a_deferred_view_makes_its_pages_on_the_first_request_and_keeps_the_methods_name() -> None:
    class Pages:
        def greet(self, name: str) -> str:
            return f"hello {name}"

    made: list[Pages] = []

    def make() -> Pages:
        made.append(Pages())
        return made[-1]

    view = deferred(Once(make), Pages.greet)

    assert view.__name__ == "greet"
    assert made == []
    assert view(name="Ada") == "hello Ada"
    assert view("Bo") == "hello Bo"
    assert len(made) == 1
