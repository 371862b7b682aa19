"""A host sends a password reset through `send_template` on a migrated database, wired from
settings as in staging: the email goes to the redirect, a suppressed address is not mailed,
and the message log shows both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Database

from justdriving.adapters.memory import FakeEmailSender
from justdriving.config import Settings
from justdriving.container import Container, build_container
from justdriving.domain.delivery import Suppression, SuppressionReason
from justdriving.domain.messages import Channel, MessageStatus

RESET = {"reset_url": "https://app.example.dk/reset/Qm81z", "recipient_name": "Bo Berg"}


@pytest.fixture
def staging(database: Database) -> Iterator[Container]:
    settings = Settings.from_env(
        {
            "APP_ENV": "staging",
            "DATABASE_URL": database.url,
            "MAIL_MAILER": "fake",
            "MAIL_REDIRECT_TO": "qa@school.example",
            "SMS_REDIRECT_TO": "+4599999999",
        },
        env_file=None,
    )
    container = build_container(settings)
    yield container
    container.engine().dispose()


def test_a_password_reset_in_staging_goes_to_the_redirect_and_the_log_shows_it(
    staging: Container,
) -> None:
    app = staging.application()
    school = app.register_school("Køreskolen Øst", settings=None)

    [queued] = app.send_template(school.id, "password_reset", to="bo@example.dk", context=RESET)
    report = app.relay_outbox()

    email = staging.email()
    assert isinstance(email, FakeEmailSender)
    [(to, sent, _)] = email.sent
    assert (str(to), sent.subject) == ("qa@school.example", "Nulstil din adgangskode")
    assert RESET["reset_url"] in sent.text
    assert report.sent == 1
    [logged] = app.operations.list_messages(school.id)
    assert (logged.id, logged.template, logged.status) == (
        queued.id,
        "password_reset",
        MessageStatus.SENT,
    )
    assert logged.recipient == "b***@example.dk"
    assert logged.decisions[0] == "redirected from b***@example.dk to q***@school.example"


def test_a_suppressed_address_is_not_mailed_and_the_log_says_why(staging: Container) -> None:
    app = staging.application()
    school = app.register_school("Køreskolen Øst")
    with app.uow() as uow:
        uow.suppressions.add(
            Suppression(
                id="",
                channel=Channel.EMAIL,
                address="bo@example.dk",
                reason=SuppressionReason.SPAM_COMPLAINT,
                created_at=app.clock.now(),
            )
        )
        uow.commit()

    app.send_template(school.id, "password_reset", to="bo@example.dk", context=RESET)
    app.relay_outbox()

    email = staging.email()
    assert isinstance(email, FakeEmailSender)
    assert email.sent == []
    [logged] = app.operations.list_messages(school.id)
    assert logged.status is MessageStatus.SUPPRESSED
    assert "recipient is suppressed (spam_complaint)" in logged.decisions
