"""One provider's HTTP call, its answer or its silence, in justdriving's errors: whether a
retry is safe depends on these rules, so each is shown on a real httpx client whose transport
answers (or fails) the way a provider would."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.domain.errors import (
    BooksNotConnected,
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
)

URL = "https://api.example.test/v1/things"


def _code_and_message(response: httpx.Response) -> Reason:
    body = response.json()
    return Reason(body["code"], body["message"])


RULES = ProviderHttp("example", "Example", settings=["EXAMPLE_KEY"], reason=_code_and_message)


def _client(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(answer))


def _failing(error: type[httpx.TransportError]) -> httpx.Client:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return _client(fail)


def _send(http: httpx.Client, *, write: bool = True) -> httpx.Response:
    return RULES.send(http, "POST", URL, what="POST /v1/things", write=write, content=b"{}")


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_a_connection_never_made_is_certainly_not_sent(
    error: type[httpx.TransportError],
) -> None:
    with pytest.raises(ProviderUnavailable, match="nothing was sent") as raised:
        _send(_failing(error))

    assert raised.value.retryable
    assert raised.value.possibly_done is False


def test_a_timeout_after_the_request_went_out_may_have_done_a_write() -> None:
    with pytest.raises(ProviderUnavailable, match="timed out") as raised:
        _send(_failing(httpx.ReadTimeout))

    assert raised.value.possibly_done is True


def test_a_connection_lost_during_a_read_did_nothing_to_retry_for() -> None:
    with pytest.raises(ProviderUnavailable, match="lost the connection") as raised:
        _send(_failing(httpx.RemoteProtocolError), write=False)

    assert raised.value.possibly_done is False


def test_an_address_that_is_not_http_is_a_configuration_error() -> None:
    rules = ProviderHttp("example", "Example", address_settings=["EXAMPLE_API_BASE_URL"])

    with pytest.raises(ConfigurationError, match="EXAMPLE_API_BASE_URL"):
        rules.send(httpx.Client(), "GET", "ftp://example.test/", what="GET /", write=False)


def test_a_rate_limit_did_nothing_and_honours_retry_after() -> None:
    http = _client(
        lambda _: httpx.Response(
            429, headers={"Retry-After": "17"}, json={"code": "slow_down", "message": "later"}
        )
    )

    error = RULES.error_for(_send(http), "POST /v1/things", write=True)

    assert isinstance(error, ProviderUnavailable)
    assert (error.retry_after, error.possibly_done, error.provider_code) == (
        17.0,
        False,
        "slow_down",
    )


def test_a_server_error_may_have_done_a_write_but_not_a_read() -> None:
    http = _client(lambda _: httpx.Response(503, json={"code": "down", "message": "try again"}))

    on_write = RULES.error_for(_send(http), "POST /v1/things", write=True)
    on_read = RULES.error_for(_send(http), "GET /v1/things", write=False)

    assert isinstance(on_write, ProviderUnavailable)
    assert isinstance(on_read, ProviderUnavailable)
    assert (on_write.possibly_done, on_read.possibly_done) == (True, False)


def test_a_4xx_is_a_refusal_naming_the_providers_reason() -> None:
    http = _client(
        lambda _: httpx.Response(422, json={"code": "AMOUNT_MISMATCH", "message": "no match"})
    )

    error = RULES.error_for(_send(http), "POST /v1/things", write=True)

    assert isinstance(error, ProviderRejected)
    assert not error.retryable
    assert error.provider_code == "AMOUNT_MISMATCH"
    assert "no match" in str(error)


def test_refused_credentials_name_the_settings_in_the_adapters_own_kind() -> None:
    rules = ProviderHttp("books", "Books", settings=["BOOKS_KEY"], refused=BooksNotConnected)
    http = _client(lambda _: httpx.Response(403))

    error = rules.error_for(_send(http), "POST /v1/things", write=True)

    assert isinstance(error, BooksNotConnected)
    assert error.problems == ("BOOKS_KEY",)


def test_a_body_without_a_reason_gives_the_status_as_the_code() -> None:
    rules = ProviderHttp("example", "Example")
    http = _client(lambda _: httpx.Response(404))

    error = rules.error_for(_send(http), "GET /v1/things/1", write=False)

    assert isinstance(error, ProviderRejected)
    assert error.provider_code == "404"
    assert "Not Found" in str(error)
