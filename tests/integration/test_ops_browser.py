"""The ops page end to end in headless Chromium (Debian's, driven by Playwright).

Log in with HTTP basic auth, see a message the SMS provider rejected and its dead outbox row,
press Retry, let the relay send it, reload and see it sent. Nothing is downloaded: Playwright
drives /usr/bin/chromium (executable_path); without it, or without the playwright package,
the test skips (and fails under JUSTDRIVING_REQUIRE_SERVICES=1, as in CI).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from justdriving.adapters.memory import FakeSmsSender
from justdriving.config import QueueBackend
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.messages import Channel
from justdriving.domain.schools import SchoolSettings
from justdriving.entrypoints.web.server import WebServer
from local_services import unavailable
from unit.web.support import build_site, settings_for

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-ops-token"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    if not os.path.exists(CHROMIUM):
        unavailable("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        unavailable("Playwright", "the playwright package is not installed (pip install -e .[dev])")


@contextmanager
def live(flask: Flask) -> Iterator[str]:
    server = WebServer(flask, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.serve, name="waitress-ops", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.stop()
        thread.join(10)


def test_log_in_see_a_failed_message_retry_it_and_see_it_sent() -> None:
    from playwright.sync_api import expect, sync_playwright

    site = build_site(settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN))
    school = site.app.register_school(
        "Køreskolen Browser", settings=SchoolSettings(quiet_hours=None), phone_region="DK"
    )
    site.app.add_student(school.id, "Bo Berg", phone="20 98 76 54")
    site.app.announce(school.id, "Husk teoriprøven", channels=frozenset({Channel.SMS}))
    sms: FakeSmsSender = site.container.sms()
    sms.fail_next(ProviderRejected("fake", "invalid destination", provider_code="21211"))
    assert site.app.relay_outbox().dead == 1

    with live(site.flask) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            anonymous = playwright.request.new_context()
            assert anonymous.get(f"{url}/ops").status == 401  # no credentials, no page
            anonymous.dispose()

            context = browser.new_context(http_credentials={"username": "ops", "password": TOKEN})
            page = context.new_page()
            page.set_default_timeout(10_000)
            answer = page.goto(f"{url}/ops")
            assert answer is not None
            assert answer.status == 200

            message = page.locator("#messages tr.message")
            expect(message).to_have_count(1)
            expect(message.locator(".status")).to_have_text("failed")
            expect(message).to_contain_text("invalid destination")
            expect(message).to_contain_text("+45******54")
            dead = page.locator("#outbox tr.dead-row")
            expect(dead).to_have_count(1)
            expect(dead).to_contain_text("21211")

            dead.get_by_role("button", name="Retry").click()
            expect(page.locator("#retried")).to_be_visible()
            expect(page.locator("#outbox tr.dead-row")).to_have_count(0)

            assert site.app.relay_outbox().sent == 1  # the provider takes it this time
            page.reload()
            expect(page.locator("#messages tr.message .status")).to_have_text("sent")
            expect(page.locator("#outbox .count-sent strong")).to_have_text("1")
            context.close()
        finally:
            browser.close()
    assert sms.sent[-1][0].e164 == "+4520987654"
