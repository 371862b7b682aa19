"""The host's webhook endpoint configured by settings: the application built by the container
delivers its domain events, signed, to a receiver on 127.0.0.1; a half or wrong configuration
is refused naming the setting."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from contract.host_events.test_host_event_sender import (
    Receiver,  # one receiver, with its own HMAC check
)
from justdriving.config import Settings
from justdriving.container import bootstrap
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.money import Money

SECRET = "whsec_" + base64.b64encode(b"host application's signing key").decode()


def settings(**values: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": "memory://", **values}, env_file=None)


def test_a_configured_endpoint_receives_the_events_of_a_booking_signed() -> None:
    receiver = Receiver(SECRET)
    with_server = receiver.server
    with_server.start()
    try:
        app = bootstrap(
            settings(
                HOST_WEBHOOK_URL=with_server.base_url + "/justdriving/events",
                HOST_WEBHOOK_SECRET=SECRET,
                HOST_WEBHOOK_TOPICS="booking.confirmed,invoice.issued",
            )
        )
        school = app.register_school("Køreskolen Vest")
        teacher = app.add_teacher(school.id, "Mette Jensen", phone="+45 21 43 65 87")
        student = app.add_student(school.id, "Jonas Madsen", phone="20 12 34 56")
        lesson = app.add_booking_type(
            school.id, "Køretime", duration=timedelta(minutes=45), price=Money(50000, "DKK")
        )
        start = app.clock.now().astimezone(UTC).replace(microsecond=0) + timedelta(days=3)
        booking = app.book_lesson(
            school.id,
            teacher_id=teacher.id,
            student_ids=[student.id],
            booking_type_id=lesson.id,
            start=start,
        )

        app.relay_outbox()
    finally:
        with_server.stop()

    [(webhook_id, body)] = receiver.verified
    message = json.loads(body)
    assert webhook_id.startswith("obx_")
    assert message["type"] == "booking.confirmed"
    assert message["data"]["booking_id"] == booking.id
    assert message["data"]["school_id"] == school.id
    assert datetime.fromisoformat(message["timestamp"]).tzinfo is not None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"HOST_WEBHOOK_URL": "https://host.example/events"}, "HOST_WEBHOOK_SECRET"),
        ({"HOST_WEBHOOK_SECRET": SECRET}, "HOST_WEBHOOK_URL"),
        (
            {
                "HOST_WEBHOOK_URL": "https://host.example/events",
                "HOST_WEBHOOK_SECRET": SECRET,
                "HOST_WEBHOOK_TOPICS": "booking.exploded",
            },
            "HOST_WEBHOOK_TOPICS",
        ),
        (
            {"HOST_WEBHOOK_URL": "https://host.example/events", "HOST_WEBHOOK_SECRET": "whsec_x"},
            "HOST_WEBHOOK_SECRET",
        ),
    ],
    ids=["no secret", "no url", "unknown topic", "short secret"],
)
def test_a_half_or_wrong_host_webhook_configuration_is_refused_by_name(
    values: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named) as refused:
        bootstrap(settings(**values)).relay_outbox()
    assert SECRET not in str(refused.value)


def test_production_refuses_a_plain_http_host_endpoint() -> None:
    production = Settings.from_env(
        {"APP_ENV": "production", "HOST_WEBHOOK_URL": "http://host.example/events"},
        env_file=None,
    )

    assert any(
        problem.startswith("HOST_WEBHOOK_URL must be an https:// URL in production")
        for problem in production.production_problems()
    )
