"""The web app behind a real waitress server on 127.0.0.1, on SQLite and PostgreSQL.

Concurrent duplicate deliveries have one effect; the development checkout page pays an invoice
through the app's own webhook route, as the fake provider would.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask

from justdriving.config import QueueBackend
from justdriving.entrypoints.web.server import WebServer
from justdriving.entrypoints.worker import Worker
from unit.entrypoints.web.support import PAID, WEBHOOK, Site, build_site, settings_for
from waiting import wait_for

if TYPE_CHECKING:
    from conftest import Database

DELIVERIES = 10


@contextmanager
def live(flask: Flask) -> Iterator[str]:
    """The app served by waitress on a free port; yields its base URL."""
    server = WebServer(flask, "127.0.0.1", 0, threads=8)
    thread = threading.Thread(target=server.serve, name="waitress", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.stop()
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"


@contextmanager
def worker_thread(site: Site) -> Iterator[None]:
    worker = Worker(site.app, idle_sleep=0.05)
    thread = threading.Thread(target=worker.run, name="worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.stopping.set()
        thread.join(10)


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def sql_site(database: Database, request: pytest.FixtureRequest) -> Iterator[Site]:
    queue = getattr(request, "param", QueueBackend.WORKER)
    site = build_site(settings_for(database.url, queue))
    yield site
    site.container.engine().dispose()


@pytest.mark.parametrize(
    "sql_site", [QueueBackend.INLINE, QueueBackend.WORKER], indirect=True, ids=["inline", "worker"]
)
def test_concurrent_duplicate_deliveries_to_a_live_server_have_exactly_one_effect(
    sql_site: Site,
) -> None:
    checkout = sql_site.checkout()
    body, headers = sql_site.gateway.succeed(checkout.ref)
    start = threading.Barrier(DELIVERIES)

    with live(sql_site.flask) as url, ThreadPoolExecutor(DELIVERIES) as pool:

        def deliver(_: int) -> tuple[int, Any]:
            start.wait()
            return post(url + WEBHOOK, body, headers)

        answers = list(pool.map(deliver, range(DELIVERIES)))
    Worker(sql_site.app).tick()  # a no-op in inline mode

    assert [status for status, _ in answers] == [200] * DELIVERIES
    assert sum(answer["received"] for _, answer in answers) == 1
    assert sum(answer["duplicates"] for _, answer in answers) == DELIVERIES - 1
    assert sql_site.state(checkout) == PAID
    assert len(sql_site.inbox()) == 1


def test_the_same_event_delivered_50_times_has_one_effect_on_sql(sql_site: Site) -> None:
    checkout = sql_site.checkout()
    delivery = sql_site.gateway.succeed(checkout.ref)
    client = sql_site.client()

    statuses = {sql_site.post(delivery, client).status_code for _ in range(50)}
    Worker(sql_site.app).tick()

    assert statuses == {200}
    assert sql_site.state(checkout) == PAID


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [("pay", PAID), ("3ds", PAID), ("decline", ("failed", "open", 0))],
)
def test_the_dev_checkout_page_pays_through_the_apps_own_webhook_route(
    tmp_path: Path, outcome: str, expected: tuple[str, str, int]
) -> None:
    site = build_site(settings_for(f"sqlite:///{tmp_path / 'web.db'}"))
    checkout = site.checkout()
    browser = _browser()

    with live(site.flask) as url, worker_thread(site):
        page_url = f"{url}/dev/checkout/{checkout.ref}"
        page = browser.open(page_url, timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = urllib.parse.urlencode({"outcome": outcome, "csrf_token": token[1]}).encode()
        with browser.open(page_url, data=form, timeout=10) as result:  # follows the 303
            assert result.status == 200
            assert result.geturl() == page_url + "/result"
        wait_for(lambda: site.state(checkout) == expected, f"the checkout to be {expected}")
        shown = browser.open(page_url + "/result", timeout=10).read().decode()

    assert f'<dd id="invoice-status">{expected[1]}</dd>' in shown
    site.container.engine().dispose()


def test_the_dev_checkout_refuses_a_forged_form_on_a_live_server(tmp_path: Path) -> None:
    site = build_site(settings_for(f"sqlite:///{tmp_path / 'web.db'}"))
    checkout = site.checkout()

    with live(site.flask) as url:
        form = urllib.parse.urlencode({"outcome": "pay", "csrf_token": "forged"}).encode()
        status, answer = post(f"{url}/dev/checkout/{checkout.ref}", form, {})

    assert (status, answer["error"]["code"]) == (403, "csrf_rejected")
    assert site.inbox() == []
    site.container.engine().dispose()


def _refused(url: str) -> bool:
    """A new connection to `url` is refused (an answer, a reset or a timeout is not that)."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except OSError as error:  # URLError, HTTPError and connection errors alike
        return isinstance(getattr(error, "reason", error), ConnectionRefusedError)
    return False


def test_a_request_in_flight_when_the_server_stops_is_answered_before_it_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    arrived, release = threading.Event(), threading.Event()
    flask = Flask(__name__)

    @flask.get("/slow")
    def slow() -> dict[str, bool]:
        arrived.set()
        release.wait(10)
        return {"answered": True}

    server = WebServer(flask, "127.0.0.1", 0, threads=2)
    serving = threading.Thread(target=server.serve, name="waitress", daemon=True)
    serving.start()
    with ThreadPoolExecutor(1) as client:
        answer = client.submit(lambda: urllib.request.urlopen(server.url + "/slow", timeout=15))
        assert arrived.wait(10), "the request never reached the app"
        server.stop()
        wait_for(lambda: _refused(server.url + "/healthz"), "the server to refuse new connections")
        release.set()
        with answer.result(15) as response:
            status, body = response.status, json.loads(response.read())
    serving.join(10)

    assert (status, body) == (200, {"answered": True})
    assert not serving.is_alive(), "waitress did not stop"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
