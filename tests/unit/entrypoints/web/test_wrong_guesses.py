"""Wrong guesses of OPS_TOKEN and API_TOKEN slow the guesser down (429 with Retry-After) for a
window, per client address; the right token still works for everyone else, and again for the
guesser once the window has passed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.memory.clock import FrozenClock
from justdriving.config import QueueBackend
from justdriving.entrypoints.flask_app import serving_app
from justdriving.entrypoints.web.guesses import MAX_FAILURES, WINDOW, WrongGuesses

from .support import NOW, Site, build_site, settings_for

OPS_TOKEN = "ops-secret-token"
API_TOKEN = "host-app-api-token-0123456789"
GUESSER = {"REMOTE_ADDR": "203.0.113.9"}
NEIGHBOUR = {"REMOTE_ADDR": "198.51.100.4"}


def _clock(site: Site) -> FrozenClock:
    clock = site.container.clock()
    assert isinstance(clock, FrozenClock)
    return clock


def _ops(site: Site, token: str, address: dict[str, str]) -> int:
    answer = site.client().get(
        "/ops", headers={"Authorization": f"Bearer {token}"}, environ_base=address
    )
    if answer.status_code == 429:
        assert int(answer.headers["Retry-After"]) > 0
        assert token not in answer.get_data(as_text=True)
    return answer.status_code


def test_ten_wrong_ops_tokens_lock_that_address_out_for_the_window_only() -> None:
    site = build_site(settings_for(queue=QueueBackend.INLINE, ops_token=OPS_TOKEN))

    wrong = [_ops(site, "guess", GUESSER) for _ in range(MAX_FAILURES)]
    locked = _ops(site, OPS_TOKEN, GUESSER)
    neighbour = _ops(site, OPS_TOKEN, NEIGHBOUR)
    _clock(site).advance(WINDOW)
    after = _ops(site, OPS_TOKEN, GUESSER)

    assert wrong == [401] * MAX_FAILURES
    assert locked == 429
    assert neighbour == 200
    assert after == 200


def test_a_browser_asking_without_credentials_is_not_counted_as_a_guess() -> None:
    site = build_site(settings_for(queue=QueueBackend.INLINE, ops_token=OPS_TOKEN))

    bare = [site.client().get("/ops", environ_base=GUESSER).status_code for _ in range(20)]

    assert bare == [401] * 20
    assert _ops(site, OPS_TOKEN, GUESSER) == 200


def test_wrong_api_tokens_under_serve_are_slowed_down_and_start_no_payment() -> None:
    site = build_site(settings_for(api_token=API_TOKEN))
    served = serving_app(site.container).test_client()
    path = f"/api/invoices/{site.open_invoice()}/payments"

    def start(token: str) -> int:
        return served.post(
            path,
            json={"school_id": site.school_id},
            headers={"Authorization": f"Bearer {token}"},
            environ_base=GUESSER,
        ).status_code

    wrong = [start("guess") for _ in range(MAX_FAILURES)]
    locked = start(API_TOKEN)
    _clock(site).advance(WINDOW)

    assert wrong == [401] * MAX_FAILURES
    assert locked == 429
    assert site.container.store().counts()["payments"] == 0
    assert start(API_TOKEN) == 201


@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 60 * 60), st.booleans()),
        max_size=40,
    )
)
def test_an_address_waits_exactly_when_its_recent_failures_reach_the_limit(
    steps: list[tuple[int, bool]],
) -> None:
    """A model: the failures since the last success, within the window, counted."""
    clock = FrozenClock(NOW)
    guesses = WrongGuesses(clock, limit=3, window=timedelta(minutes=15))
    failures: list[timedelta] = []
    elapsed = timedelta(0)
    for seconds, success in sorted(steps):
        clock.set(NOW + timedelta(seconds=seconds))
        elapsed = timedelta(seconds=seconds)
        if success:
            guesses.succeeded("a")
            failures.clear()
        else:
            guesses.failed("a")
            failures.append(elapsed)
        recent = [f for f in failures if f + timedelta(minutes=15) > elapsed]
        assert (guesses.wait("a") > 0) == (len(recent) >= 3)
        assert guesses.wait("b") == 0


def test_memory_is_bounded_by_forgetting_the_address_seen_least_recently() -> None:
    guesses = WrongGuesses(FrozenClock(NOW), limit=1, max_addresses=2)
    for address in ("a", "b", "c"):
        guesses.failed(address)

    assert [guesses.wait(a) > 0 for a in ("a", "b", "c")] == [False, True, True]
