"""The operators' commands against a migrated SQLite file: state persists between
invocations, errors are one line, recipients are masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import bootstrap
from justdriving.domain.ids import MessageId
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.outbox import (
    InboxEvent,
    OutboxKind,
    OutboxMessage,
)
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import MessageType
from justdriving.entrypoints.cli import main

PHONE = "+4520123456"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "PUBLIC_BASE_URL", "DEBUG", "ALLOW_SQLITE_IN_PRODUCTION"):
        monkeypatch.delenv(name, raising=False)
    variables = {"DATABASE_URL": f"sqlite:///{tmp_path / 'jd.db'}"}
    assert cli(variables, "migrate").exit_code == 0
    return variables


@pytest.fixture
def app(env: dict[str, str]) -> Application:
    return bootstrap(Settings.from_env(env, env_file=None))


def cli(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result


def error_line(result: Result) -> str:
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    return line


def seed(app: Application) -> dict[str, str]:
    """A school, a failed SMS whose outbox row is dead, an old sent row, a failed webhook."""
    now = app.clock.now()
    school = app.register_school("Køreskolen Øst")
    message = OutboundMessage(
        id=MessageId("msg_failed"),
        school_id=school.id,
        channel=Channel.SMS,
        type=MessageType.REMINDER,
        recipient=PhoneNumber(PHONE),
        language="da",
        context={},
        created_at=now,
        status=MessageStatus.FAILED,
        provider="fake",
        provider_error="invalid destination",
    )
    dead = OutboxMessage(
        id="obx_dead",
        kind=OutboxKind.SEND_SMS,
        school_id=school.id,
        payload={"message_id": message.id},
        idempotency_key="key_dead",
        created_at=now,
    )
    dead.give_up("invalid destination")
    old = OutboxMessage(
        id="obx_old",
        kind=OutboxKind.SEND_EMAIL,
        school_id=school.id,
        payload={"message_id": "msg_gone"},
        idempotency_key="key_old",
        created_at=now - timedelta(days=45),
    )
    old.succeeded(now - timedelta(days=45))
    event = ProviderPaymentEvent(
        provider="fake",
        event_id="evt_1",
        kind=PaymentEventKind.SUCCEEDED,
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        raw_type="payment.succeeded",
        payment_id="pay_unknown",
    )
    failed = InboxEvent(
        id="ibx_failed",
        provider="fake",
        event_id="evt_1",
        event_type=event.raw_type,
        received_at=now,
        body=b"{}",
        payload=event.to_payload(),
    )
    failed.failed("ConcurrencyConflict: try again")
    with app.uow() as uow:
        uow.messages.add(message)
        uow.outbox.add(dead)
        uow.outbox.add(old)
        uow.inbox.add(failed)
        uow.commit()
    return {"school": school.id}


def test_outbox_commands_on_sqlite(env: dict[str, str], app: Application) -> None:
    seed(app)

    dead = cli(env, "outbox", "list", "--status", "dead")
    retried = cli(env, "outbox", "retry", "obx_dead")
    again = cli(env, "outbox", "retry", "obx_dead")
    purged = cli(env, "outbox", "purge-sent", "--older-than-days", "30")
    remaining = cli(env, "outbox", "list")

    assert dead.exit_code == 0, dead.output
    assert "obx_dead" in dead.output
    assert "obx_old" not in dead.output
    assert retried.exit_code == 0, retried.output
    assert again.exit_code == 1
    assert "cannot retry" in error_line(again)
    assert "purged 1 sent outbox rows" in purged.output
    assert "obx_dead" in remaining.output
    assert "pending" in remaining.output
    assert "obx_old" not in remaining.output
    queued = cli(env, "messages", "list", "--status", "queued")
    assert "msg_failed" in queued.output  # the retry queued its message again


def test_inbox_commands_on_sqlite(env: dict[str, str], app: Application) -> None:
    seed(app)

    listed = cli(env, "inbox", "list", "--status", "failed")
    replayed = cli(env, "inbox", "replay", "ibx_failed")
    twice = cli(env, "inbox", "replay", "ibx_failed")
    unknown = cli(env, "inbox", "replay", "ibx_nope")

    assert "ibx_failed" in listed.output
    assert "ConcurrencyConflict: try again" in listed.output
    assert replayed.exit_code == 0, replayed.output
    assert "ibx_failed replayed: ignored" in replayed.output
    assert twice.exit_code == 0  # ignored may be replayed again
    assert (unknown.exit_code, error_line(unknown)) == (1, "error: inbox event ibx_nope not found")
    assert "ibx_failed" in cli(env, "inbox", "list", "--status", "ignored").output


def test_messages_list_on_sqlite_never_shows_a_full_number(
    env: dict[str, str], app: Application
) -> None:
    school = seed(app)["school"]

    listed = cli(env, "messages", "list", "--school", school)

    assert listed.exit_code == 0, listed.output
    assert "msg_failed" in listed.output
    assert PHONE not in listed.output
    assert PHONE[3:] not in listed.output
    assert PhoneNumber(PHONE).masked() in listed.output
    assert cli(env, "messages", "list", "--school", "sch_nope").exit_code == 1
    assert cli(env, "messages", "list", "--limit", "-3").exit_code == 2


def test_commands_on_an_unmigrated_database_say_so_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}

    result = cli(env, "outbox", "list")

    assert result.exit_code == 2
    assert "justdriving migrate" in error_line(result)


def test_check_config_refuses_sqlite_in_production_unless_allowed(env: dict[str, str]) -> None:
    production = {
        **env,
        "APP_ENV": "production",
        "PUBLIC_BASE_URL": "https://booking.example.dk",
        "PAYMENT_PROVIDER": "manual",
        "SMS_PROVIDER": "gatewayapi",
        "SMS_PROVIDER_SECRET": "gw-token",
        "SMS_WEBHOOK_SECRET": "gw-webhook",
        "SMS_FROM_NUMBER": "Koereskole",
        "MAIL_MAILER": "smtp",
        "MAIL_HOST": "smtp.example.dk",
        "MAIL_FROM_ADDRESS": "kontor@example.dk",
        "PAY_LINK_SECRET": "Pl5Kx8Qw2Zr7Mn4Vb9Hj3Gf6Dc1Sa0Ty",
    }

    refused = cli(production, "check-config")
    allowed = cli({**production, "ALLOW_SQLITE_IN_PRODUCTION": "true"}, "check-config")

    assert refused.exit_code == 2
    assert "ALLOW_SQLITE_IN_PRODUCTION" in refused.output
    assert allowed.exit_code == 0, allowed.output
