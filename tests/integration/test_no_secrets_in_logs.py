"""Issue 7: with known secrets in the environment, the flows that log leak none of them.

Logging is configured as an entrypoint does (`configure_logging(Settings.from_env())`), to an
in-memory stream at DEBUG; then the demo, the payment webhook (good, badly signed and failing
to apply), the relay with the log senders and a provider failure whose error text carries
personal data and a key all run. No secret value, full phone number or full email address
may appear in any captured line, and lines must have been captured.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from rich.console import Console

from justdriving.config import Settings
from justdriving.domain.errors import ProviderRejected
from justdriving.entrypoints.demo import run_demo
from justdriving.entrypoints.worker import Worker
from justdriving.logs import bind_ids, bind_request, configure_logging
from unit.entrypoints.web.support import build_site

DEMO_PHONE = "+4520123456"
PERSONAL = [
    DEMO_PHONE,
    "4520123456",
    "20123456",
    "20 12 34 56",
    "+4521436587",  # the demo's teacher
    "21 43 65 87",
    "jonas@example.com",  # the demo's student
    "ida@example.dk",  # the web site's student
    "kontor@koreskolen-nord.dk",
]


def _random(prefix: str = "") -> str:
    return prefix + secrets.token_hex(16)


SECRETS = {
    "PAYMENT_PROVIDER_KEY": _random("pk_test_"),
    "PAYMENT_PROVIDER_SECRET": _random("sk_test_"),
    "PAYMENT_WEBHOOK_SECRET": _random("whsec_"),
    "SMS_PROVIDER_KEY": _random(),
    "SMS_PROVIDER_SECRET": _random(),
    "SMS_WEBHOOK_SECRET": _random(),
    "MAIL_PASSWORD": _random("pw-"),
    "MAIL_API_KEY": _random("key-"),
    "MAIL_WEBHOOK_SECRET": _random(),
    "ACCOUNTING_API_KEY": _random(),
    "ACCOUNTING_API_SECRET": _random(),
    "OPS_TOKEN": _random("ops-"),
}


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMS_PROVIDER", "log")
    monkeypatch.setenv("MAIL_MAILER", "log")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(Settings.from_env(env_file=None), stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _run_the_flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo: bookings, deposits, webhooks, the relay with LogSmsSender/LogEmailSender.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    run_demo(Settings.from_env(env_file=None), Console(file=io.StringIO(), width=120))

    # The web app: inline webhooks, signed well and badly, and one whose applying breaks.
    monkeypatch.setenv("DATABASE_URL", "memory://")
    monkeypatch.setenv("QUEUE_BACKEND", "inline")
    site = build_site(Settings.from_env(env_file=None))
    client = site.client()
    bind_request("req-good")
    checkout = site.checkout()
    with bind_ids(school_id=site.school_id):
        assert site.post(site.gateway.succeed(checkout.ref), client).status_code == 200
    bind_request("req-bad")
    body, _ = site.gateway.fail(site.checkout().ref)
    wrong_secret = SECRETS["PAYMENT_WEBHOOK_SECRET"][::-1]
    bad = site.gateway.sign(body, site.app.clock.now(), secret=wrong_secret)
    assert site.post((body, bad), client).status_code == 400

    def broken(*_: object) -> None:
        raise RuntimeError(
            f"could not apply for {DEMO_PHONE} / ida@example.dk with "
            f"Authorization: Bearer {SECRETS['PAYMENT_PROVIDER_SECRET']}"
        )

    bind_request("req-broken")
    with monkeypatch.context() as patch:
        patch.setattr("justdriving.domain.services.inbound.apply_payment_event", broken)
        assert site.post(site.gateway.succeed(site.checkout().ref), client).status_code == 200
    structlog.contextvars.clear_contextvars()
    Worker(site.app, monotonic=lambda: 0.0).tick()  # the relay, through the log senders

    # A provider failure whose error text holds personal data and a key, logged as a careless
    # entrypoint would: the whole report and the exception.
    monkeypatch.setenv("MAIL_MAILER", "fake")
    failing = build_site(Settings.from_env(env_file=None))
    failing.container.email().fail_next(
        ProviderRejected(
            "fake",
            f"HTTP 400 {{'to': 'ida@example.dk', 'sms': '{DEMO_PHONE}', "
            f"'api_key': '{SECRETS['MAIL_API_KEY']}', 'card': '4242 4242 4242 4242'}}",
        )
    )
    failing.app.send_invoice(failing.school_id, failing.open_invoice())
    report = failing.app.relay_outbox()
    assert report.errors, "the provider failure did not happen"
    log = logging.getLogger("justdriving.worker")
    log.warning("relay errors: %s", report.errors)
    structlog.get_logger("justdriving.worker").error(
        "relay failed", errors=report.errors, settings=Settings.from_env(env_file=None)
    )
    log.error("a careless line: ops token %s", SECRETS["OPS_TOKEN"])


def test_no_secret_phone_number_or_email_appears_in_any_log_line(
    captured: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_the_flows(tmp_path, monkeypatch)

    lines = captured.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    text = "\n".join(lines)
    assert len(lines) >= 5
    # The web app binds a request id of its own to every line of a request.
    assert any(str(event.get("request_id", "")).startswith("req_") for event in events)
    assert any("+45******56" in line for line in lines), "no masked phone number was logged"
    assert any("***@example.dk" in line for line in lines), "no masked email was logged"
    assert any("Traceback" in line for line in lines), "no exception was logged"
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked into the log"
    for personal in PERSONAL:
        assert personal not in text, f"{personal} leaked into the log"
    assert "4242 4242 4242 4242" not in text
