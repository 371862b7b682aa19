"""Campaign 6, what the process shows: with every secret setting configured (random values) and
a student whose phone number and email address are known, `justdriving serve` runs at DEBUG in
both LOG_FORMATs and is sent requests that carry those in every encoding (query strings,
paths, headers, form and JSON bodies, wrong credentials); then the worker relays to providers
that are down (their errors logged and stored) and the CLI's commands list what is stored.
Everything written — gunicorn's lines, the access log, the app's log lines and tracebacks,
every command's output — is scanned: no secret and no phone number or email address, in any
encoding (tests/leaks.py), and each surface did write something."""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import attrs
import pytest

from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import Settings, is_secret_name
from justdriving.container import build_container
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from leaks import leaks
from waiting import wait_for

from .crash_support import CLI, Tier, answers

PHONE = "+4520123456"
EMAIL = "elev00@example.com"
PERSONAL = [PHONE, "+45 20 12 34 56", EMAIL]
HOSTILE_VALUES = [
    *PERSONAL,
    PHONE[1:],
    quote(EMAIL, safe=""),
    quote_plus("+45 20 12 34 56"),
    quote(PHONE, safe=""),
    quote(quote(EMAIL, safe=""), safe=""),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _secrets() -> dict[str, str]:
    """A random value for every secret setting (the Fernet key excepted: its format is fixed;
    the host webhook's secret in the Standard Webhooks format)."""
    values = {}
    for field in attrs.fields(Settings):
        if is_secret_name(field.name) and field.name != "accounting_token_key":
            values[field.name.upper()] = "S" + secrets.token_urlsafe(24)
    values["HOST_WEBHOOK_SECRET"] = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return values


def _environment(database: Path, log_format: str, secret_env: dict[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TZ"}}
    broker_password = secret_env["PAYMENT_PROVIDER_SECRET"][::-1]
    return {
        **inherited,
        **secret_env,
        "DATABASE_URL": f"sqlite:///{database}",
        "APP_ENV": "development",
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": "DEBUG",
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "PAYMENT_PROVIDER": "fake",
        "SMS_PROVIDER": "twilio",
        "SMS_PROVIDER_KEY": "AC" + "0" * 32,
        "SMS_FROM_NUMBER": "+4512345678",
        "SMS_API_BASE_URL": "http://127.0.0.1:9",  # down: the relay fails and logs it
        "MAIL_MAILER": "mailgun",
        "MAIL_DOMAIN": "mg.example",
        "MAIL_API_BASE_URL": "http://127.0.0.1:9",
        "MAIL_FROM_ADDRESS": "kontor@koreskolen-nord.dk",
        "HOST_WEBHOOK_URL": "http://127.0.0.1:9/events",  # down too: its failures are logged
        # Vipps MobilePay beside the fake (its secrets come from secret_env), its API down too.
        "MOBILEPAY_CLIENT_ID": "mobilepay-client-id",
        "MOBILEPAY_MERCHANT_SERIAL_NUMBER": "123456",
        "MOBILEPAY_API_BASE": "http://127.0.0.1:9",
        "CELERY_BROKER_URL": f"redis://:{broker_password}@127.0.0.1:6379/6",
        "PYTHONUNBUFFERED": "1",
    }


def _seed(env: dict[str, str]) -> None:
    """A student with the known phone and email, sent an invoice (an email and an SMS queued)."""
    settings = Settings.from_env(env, env_file=None)
    upgrade(make_engine(settings.effective_database_url))
    app: Application = build_container(settings).application()
    school = app.register_school("Køreskolen Overflade", contact_email="kontor@example.com")
    student = app.add_student(school.id, "Elev Nul", phone=PHONE, email=EMAIL)
    line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    draft = app.draft_invoice(school.id, student.id, [line])
    invoice = app.issue_invoice(school.id, draft.id)
    app.send_invoice(school.id, invoice.id)


def _request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def _hostile_requests(port: int, env: dict[str, str]) -> list[int]:
    statuses = []
    for value in HOSTILE_VALUES:
        q = quote(value, safe="%+@")
        statuses.append(_request(port, "GET", f"/healthz?email={q}&phone={q}&token={q}"))
        statuses.append(_request(port, "GET", f"/nothing/{q}"))
        statuses.append(
            _request(
                port,
                "POST",
                f"/webhook/payments/fake?to={q}",
                json.dumps({"id": value, "email": value, "phone": value}).encode(),
                **{"Content-Type": "application/json", "Fake-Signature": value},
            )
        )
        statuses.append(
            _request(
                port,
                "POST",
                "/webhook/sms/twilio/status",
                f"To={q}&From={q}&MessageSid=SM1&MessageStatus=failed".encode(),
                **{"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
            )
        )
        statuses.append(
            _request(
                port,
                "POST",
                "/api/invoices/x/payments",
                json.dumps({"school_id": value, "return_url": f"https://{value}/"}).encode(),
                **{
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {env['API_TOKEN']}",
                },
            )
        )
        statuses.append(_request(port, "GET", "/ops", Authorization=f"Bearer {env['OPS_TOKEN']}x"))
    return statuses


def _cli(arguments: list[str], env: dict[str, str], folder: Path) -> str:
    done = subprocess.run(
        [*CLI, *arguments], env=env, cwd=folder, capture_output=True, timeout=120, check=False
    )
    return done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_surface_shows_a_secret_a_phone_number_or_an_email(
    tmp_path: Path, log_format: str
) -> None:
    secret_env = _secrets()
    env = _environment(tmp_path / "surfaces.db", log_format, secret_env)
    _seed(env)
    port = _free_port()
    web = Tier("web", ["serve", "--port", str(port), "--workers", "2"], env, tmp_path)
    web.start()
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "serve to start", 60)
        statuses = _hostile_requests(port, env)
    finally:
        web.stop()
    surfaces = {"serve": web.output_all()}
    for command in (
        ["worker", "--once"],
        ["check-config"],
        ["outbox", "list"],
        ["inbox", "list"],
        ["messages", "list"],
        ["payments", "overpaid"],
    ):
        surfaces[" ".join(command)] = _cli(command, env, tmp_path)

    assert all(status < 500 for status in statuses), statuses
    written = surfaces["serve"]
    assert "gunicorn" in written.lower() or "Booting worker" in written  # gunicorn's lines
    assert "/healthz?" in written  # the access log
    assert "Starting gunicorn" in written
    for name, text in surfaces.items():
        assert text.strip(), f"`{name}` wrote nothing"
        assert not leaks(text, secret_env.values()), f"a secret in `{name}`"
        assert not leaks(text, [env["CELERY_BROKER_URL"].split(":")[2].split("@")[0]])
        assert not leaks(text, PERSONAL), f"personal data in `{name}`:\n{text[-3000:]}"
    if log_format == "json":
        for line in written.splitlines():
            if line.startswith("{"):
                json.loads(line)
        log_lines = [line for line in written.splitlines() if line.strip()]
        non_json = [line for line in log_lines if not line.startswith("{")]
        # Only the CLI's own lines ("serving on …", "stopped") are not JSON log lines.
        assert all(line.startswith(("justdriving serving", "stopped")) for line in non_json), (
            non_json
        )
