"""The ops page end to end in headless Chromium (Debian's, driven by Playwright).

Log in with HTTP basic auth, see a message the SMS provider rejected and its dead outbox row,
press Retry, let the relay send it, reload and see it sent. Then money: in Danish and in
English, at a desktop's and a phone's width, find what Jonas owes and whether invoice 3 is
paid, by searching, following links, and switching the language; each view is screenshot.
Nothing is downloaded: Playwright drives /usr/bin/chromium (executable_path); without it, or
without the playwright package, the test skips (and fails under JUSTDRIVING_REQUIRE_SERVICES=1,
as in CI).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from justdriving.adapters.memory import FakeSmsSender, FrozenClock
from justdriving.config import QueueBackend
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.messages import Channel
from justdriving.domain.schools import SchoolSettings
from justdriving.entrypoints.web.server import WebServer
from local_services import unavailable
from money_scenario import seed_money
from unit.entrypoints.web.support import build_site, settings_for

if TYPE_CHECKING:
    from playwright.sync_api import Page

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
            answer = page.goto(f"{url}/ops?lang=en")
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


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "da": {"paid": "betalt", "owes": "skylder 500,00 DKK", "search": "Søg", "money": "750,00 DKK"},
    "en": {"paid": "paid", "owes": "owes 500.00 DKK", "search": "Search", "money": "750.00 DKK"},
}


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("language", sorted(WORDS))
def test_money_sections_answer_the_newcomer_in_both_languages_at_both_widths(
    language: str, viewport: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    site = build_site(settings_for(queue=QueueBackend.INLINE, ops_token=TOKEN))
    clock = site.container.clock()
    assert isinstance(clock, FrozenClock)
    money = seed_money(site.app, clock)
    words = WORDS[language]
    other = "en" if language == "da" else "da"

    with live(site.flask) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                http_credentials={"username": "ops", "password": TOKEN},
                viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{url}/ops?lang={other}")
            page.locator(f"#lang-{language}").click()  # switch, as a person would
            expect(page.locator("html")).to_have_attribute("lang", language)
            for section in ("#invoices", "#payments", "#balances", "#disputes", "#outbox"):
                expect(page.locator(section)).to_be_visible()
            paid = page.locator(f'#invoices-paid tr.invoice[data-id="{money.invoice_3}"]')
            expect(paid).to_contain_text(words["paid"])
            expect(
                page.locator(f'#payments-failed tr[data-id="{money.declined}"]')
            ).to_contain_text("insufficient funds")
            _no_sideways_scrolling(page)
            page.screenshot(path=str(tmp_path / f"ops-{language}-{viewport}.png"), full_page=True)

            page.get_by_role("searchbox").fill("Jonas")
            page.get_by_role("button", name=words["search"], exact=True).click()
            expect(page.locator("#showing")).to_contain_text("Jonas Madsen")
            expect(page.locator("tr.balance")).to_have_count(1)
            page.locator(f'#invoices-paid a[href="/ops/invoices/{money.invoice_3}"]').click()

            expect(page.locator("#invoice h2")).to_contain_text(words["paid"])
            expect(page.locator("#invoice-payments tr.payment")).to_contain_text("MP-1234")
            expect(page.locator("#invoice-payments tr.payment")).to_contain_text(words["money"])
            expect(page.locator("#balance")).to_contain_text(f"Jonas Madsen {words['owes']}")
            student = page.locator("#invoice .who", has_text="Jonas Madsen")
            expect(student).to_have_attribute("title", money.jonas)  # the id, on hover
            _no_sideways_scrolling(page)
            page.screenshot(path=str(tmp_path / f"invoice-{language}-{viewport}.png"))
            context.close()
        finally:
            browser.close()
    for shot in tmp_path.glob("*.png"):
        assert shot.stat().st_size > 10_000, shot.name  # a page was drawn, not a blank


def _no_sideways_scrolling(page: Page) -> None:
    """Wide tables scroll inside their section; the page itself fits the screen."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
