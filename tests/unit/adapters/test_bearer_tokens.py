"""The access token both REST payment adapters keep: fetched once, renewed before it expires,
and renewed once when the provider refuses it."""

from __future__ import annotations

import threading

from attrs import define

from justdriving.adapters.bearer_tokens import BearerTokens


@define
class Answer:
    status_code: int


@define
class Provider:
    """Hands out tok_1, tok_2, …, each valid for an hour."""

    fetched: int = 0

    def fetch(self) -> tuple[str, float]:
        self.fetched += 1
        return f"tok_{self.fetched}", 3600.0


def test_a_token_is_kept_until_shortly_before_it_expires() -> None:
    now = [0.0]
    provider = Provider()
    tokens = BearerTokens(provider.fetch, margin=300, monotonic=lambda: now[0])

    assert [tokens.current() for _ in range(3)] == ["tok_1"] * 3
    now[0] = 3299.0
    assert tokens.current() == "tok_1"
    now[0] = 3300.0
    assert tokens.current() == "tok_2"
    assert provider.fetched == 2


def test_a_refused_token_is_renewed_once_and_the_call_repeated_with_the_new_one() -> None:
    provider = Provider()
    tokens = BearerTokens(provider.fetch, margin=300, monotonic=lambda: 0.0)
    tokens.current()
    sent: list[str] = []

    def send(token: str) -> Answer:
        sent.append(token)
        return Answer(401 if token == "tok_1" else 200)

    assert tokens.call(send).status_code == 200
    assert sent == ["tok_1", "tok_2"]
    assert tokens.call(lambda token: Answer(401)).status_code == 401  # refused again: given up
    assert provider.fetched == 3


def test_threads_refused_the_same_token_fetch_one_new_token_between_them() -> None:
    provider = Provider()
    tokens = BearerTokens(provider.fetch, margin=300, monotonic=lambda: 0.0)
    refused = tokens.current()
    meeting = threading.Barrier(8, timeout=10)

    def refuse() -> None:
        meeting.wait()
        tokens.forget(refused)
        tokens.current()

    threads = [threading.Thread(target=refuse) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert provider.fetched == 2
    assert tokens.current() == "tok_2"
