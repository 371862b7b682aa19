"""SMS failover end to end: Twilio down, every message goes out through GatewayAPI's simulator
exactly once, and its delivery reports come back through GatewayAPI's route."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.entrypoints.flask_app import create_app
from justdriving.testing.gatewayapi.simulator import GatewayApiSimulator

pytest.importorskip("twilio")

PUBLIC = "https://justdriving.test"
NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
STUDENTS = 6


def _closed_port() -> int:
    """A port nothing listens on: Twilio is down, and certainly sent nothing."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_twilio_down_each_sms_goes_out_through_gatewayapi_once_and_reports_back() -> None:
    clock = FrozenClock(NOW)
    with GatewayApiSimulator(clock=clock.now) as gatewayapi:
        settings = Settings.from_env(
            {
                "DATABASE_URL": "memory://",
                "PUBLIC_BASE_URL": PUBLIC,
                "SMS_PROVIDER": "twilio",
                "SMS_PROVIDER_KEY": "AC" + "0" * 31 + "1",
                "SMS_PROVIDER_SECRET": "twilio-token",
                "SMS_FROM_NUMBER": "+4512345678",
                "SMS_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}",
                "SMS_FALLBACK_PROVIDER": "gatewayapi",
                "SMS_FALLBACK_SECRET": gatewayapi.token,
                "SMS_FALLBACK_FROM_NUMBER": "Koereskole",
                "SMS_FALLBACK_WEBHOOK_SECRET": gatewayapi.webhook_secret,
                "SMS_FALLBACK_API_BASE_URL": gatewayapi.api_base,
                "MAIL_MAILER": "fake",
            },
            env_file=None,
        )
        container = build_container(settings)
        container.clock.override(clock)
        app = container.application()
        school = app.register_school("Køreskolen Nord")
        for n in range(STUDENTS):
            app.add_student(school.id, f"Elev {n}", phone=f"+45201234{n:02d}")

        app.announce(school.id, "Vi holder lukket fredag.")
        first = app.relay_outbox()
        clock.advance(timedelta(minutes=5))
        again = app.relay_outbox()

        sent = sorted(m["recipients"][0]["msisdn"] for m in gatewayapi.messages.values())
        assert sent == [4520123400 + n for n in range(STUDENTS)]  # each once
        assert (first.sent, again.sent) == (STUDENTS, 0)
        with app.uow() as uow:
            sms = [m for m in uow.messages.for_school(school.id) if m.channel is Channel.SMS]
        assert {(m.status, m.provider) for m in sms} == {(MessageStatus.SENT, "gatewayapi")}

        web = create_app(container).test_client()
        report = gatewayapi.deliver(next(iter(gatewayapi.messages)))
        answer = web.post(urlsplit(report.url).path, data=report.body, headers=report.headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert app.apply_inbox() == 1
        with app.uow() as uow:
            states = [
                m.status for m in uow.messages.for_school(school.id) if m.channel is Channel.SMS
            ]
        assert states.count(MessageStatus.DELIVERED) == 1
