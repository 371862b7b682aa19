"""The inbox on SQLite and PostgreSQL: two workers applying it at once apply each event once
and record it truthfully; Mailgun's spent tokens are seen by every process; no webhook, however
hostile and however well signed, gets a 5xx."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from integration_support import NOW, dkk

from justdriving.adapters.email.mailgun.events import MailgunWebhooks
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.webhooks.replay import StoredTokenCache
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import DEV_WEBHOOK_SECRET, build_container
from justdriving.domain.errors import InvalidSignature
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.outbox import InboxStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import create_app

LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


def _app(database: Any, gateway: FakePaymentGateway, clock: FrozenClock) -> Application:
    return Application(
        uow=database.uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": gateway}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


def test_two_workers_applying_the_inbox_at_once_apply_each_event_once_and_say_so(
    database: Any,
) -> None:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", "whsec_fake", clock=clock)
    first, second = _app(database, gateway, clock), _app(database, gateway, clock)
    school = first.register_school("Køreskolen Inbox")
    invoices = []
    for n in range(8):
        student = first.add_student(school.id, f"Elev {n}", email=f"elev{n}@example.dk")
        draft = first.draft_invoice(school.id, student.id, [LESSON])
        invoice = first.issue_invoice(school.id, draft.id)
        started = first.start_invoice_payment(school.id, invoice.id)
        body, headers = gateway.succeed(started.session.provider_payment_id)
        assert len(first.store_payment_webhook("fake", body, headers).stored) == 1
        invoices.append(invoice.id)

    applied: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(app: Application) -> None:
        try:
            start.wait()
            applied.append(app.apply_inbox())
        except BaseException as error:  # reported below, with the thread's own traceback
            errors.append(error)

    threads = [threading.Thread(target=work, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(applied) == 8
    with first.uow() as uow:
        rows = uow.inbox.list()
        assert [(r.status, r.attempts, r.error) for r in rows] == [
            (InboxStatus.PROCESSED, 1, None)
        ] * 8
        assert {uow.invoices.get(id).status for id in invoices} == {InvoiceStatus.PAID}
    assert first.apply_inbox() == 0
    assert second.apply_inbox() == 0


def test_a_worker_that_died_holding_events_is_taken_over_after_its_lease(database: Any) -> None:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", "whsec_fake", clock=clock)
    app = _app(database, gateway, clock)
    school = app.register_school("Køreskolen Lease")
    student = app.add_student(school.id, "Elev", email="elev@example.dk")
    draft = app.draft_invoice(school.id, student.id, [LESSON])
    invoice = app.issue_invoice(school.id, draft.id)
    started = app.start_invoice_payment(school.id, invoice.id)
    [inbox_id] = app.store_payment_webhook(
        "fake", *gateway.succeed(started.session.provider_payment_id)
    ).stored
    with database.uow() as uow:  # a worker claims, then dies before applying
        assert [row.id for row in uow.inbox.claim("worker_dead", NOW, timedelta(minutes=5), 10)]
        uow.commit()

    assert app.apply_inbox() == 0
    clock.advance(timedelta(minutes=5))
    assert app.apply_inbox() == 1

    with database.uow() as uow:
        row = uow.inbox.get(inbox_id)
        assert (row.status, row.attempts) == (InboxStatus.PROCESSED, 1)
        assert "worker_dead" in (row.error or "")  # the trail says it was taken over
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.PAID


def _mailgun_delivery(key: str, token: str, event_id: str, event: str) -> bytes:
    import hashlib
    import hmac

    timestamp = str(int(NOW.timestamp()))
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    block = {"timestamp": timestamp, "token": token, "signature": signature}
    data = {"id": event_id, "timestamp": NOW.timestamp(), "event": event}
    return json.dumps({"signature": block, "event-data": data}).encode()


def test_a_mailgun_token_spent_in_one_process_is_refused_in_another(database: Any) -> None:
    # Two web processes: their own parsers, one database.
    here = MailgunWebhooks("key-test", StoredTokenCache(database.uow))
    there = MailgunWebhooks("key-test", StoredTokenCache(database.uow))
    genuine = _mailgun_delivery("key-test", "t" * 50, "evt_1", "delivered")
    forged = _mailgun_delivery("key-test", "t" * 50, "evt_2", "failed")

    assert here.parse(genuine, {}, NOW)
    for process in (there, here):
        with pytest.raises(InvalidSignature, match="replay"):
            process.parse(forged, {}, NOW)
    with pytest.raises(InvalidSignature, match="replay"):
        there.parse(genuine, {}, NOW + timedelta(seconds=10))


@pytest.mark.parametrize(
    "event_id",
    ["evt_" + "x" * 300, "evt_\x00nul", "evt_\u202e", "e" * 100_000],
    ids=["over-255", "nul", "control", "huge"],
)
def test_a_signed_event_with_an_unusable_id_is_kept_as_rejected_never_a_5xx(
    database: Any, event_id: str
) -> None:
    env = {"DATABASE_URL": database.url, "QUEUE_BACKEND": "inline"}
    settings = Settings.from_env(env, env_file=None)
    container = build_container(settings)
    container.clock.override(FrozenClock(NOW))
    client = create_app(container).test_client()
    body = json.dumps(
        {"id": event_id, "type": "payment.succeeded", "created": int(NOW.timestamp()), "data": {}}
    ).encode()
    from justdriving.adapters.memory import fake_webhooks

    headers = fake_webhooks.sign(body, DEV_WEBHOOK_SECRET, NOW)

    answer = client.post("/webhook/payments/fake", data=body, headers=headers)
    again = client.post("/webhook/payments/fake", data=body, headers=headers)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert again.status_code == 200
    with database.uow() as uow:
        [row] = uow.inbox.list()
        assert row.status is InboxStatus.REJECTED
        assert row.event_id.startswith("rejected:")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b"\x00" * 10,
        b'{"signature": {"timestamp": "' + b"9" * 20 + b'"}}',
    ],
    ids=["deep", "nul", "overflow"],
)
@pytest.mark.parametrize("route", ["payments/fake", "email/mailgun", "sms/gatewayapi/status"])
def test_hostile_unsigned_input_on_every_route_is_400_never_5xx(
    database: Any, route: str, body: bytes
) -> None:
    env = {
        "DATABASE_URL": database.url,
        "MAIL_MAILER": "mailgun",
        "MAIL_API_KEY": "key-api",
        "MAIL_DOMAIN": "mg.example.dk",
        "MAIL_FROM_ADDRESS": "kontor@example.dk",
        "MAIL_WEBHOOK_SECRET": "key-test",
        "SMS_PROVIDER": "gatewayapi",
        "SMS_PROVIDER_SECRET": "gw-token",
        "SMS_FROM_NUMBER": "Skolen",
        "SMS_WEBHOOK_SECRET": "gw-secret",
    }
    settings = Settings.from_env(env, env_file=None)
    container = build_container(settings)
    client = create_app(container).test_client()
    token = "." + "[" * 3000
    headers = {"Content-Type": "application/json", "X-Gwapi-Signature": token}

    answer = client.post(f"/webhook/{route}", data=body, headers=headers)

    assert answer.status_code == 400, answer.get_data(as_text=True)
    with database.uow() as uow:
        assert uow.inbox.list() == []
