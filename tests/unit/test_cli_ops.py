"""`justdriving outbox|inbox|messages|check-config` and the operations use cases behind them,
on an in-memory application: exit codes, one-line errors, masked recipients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import (
    FrozenClock,
)
from justdriving.application import Application
from justdriving.container import Container
from justdriving.domain.errors import InvalidInput, InvalidTransition, NotFound
from justdriving.domain.ids import MessageId
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.outbox import (
    InboxEvent,
    InboxStatus,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import MessageType, School
from justdriving.entrypoints.cli import main
from memory_app import memory_application

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PHONE = "+4520123456"
EMAIL = "jonas.madsen@example.com"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def app(clock: FrozenClock) -> Iterator[Application]:
    """The in-memory application every command of the test gets, in place of the wired one."""
    wired = memory_application(clock)
    with Container.application.override(wired):
        yield wired


@pytest.fixture
def school(app: Application) -> School:
    return app.register_school("Køreskolen Øst")


@pytest.fixture(autouse=True)
def _no_env_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No .env of the working directory leaks into check-config."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        for name in ("APP_ENV", "DATABASE_URL", "PUBLIC_BASE_URL", "DEBUG"):
            patch.delenv(name, raising=False)
        yield


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def outbox_row(
    status: OutboxStatus, created: datetime = NOW, sent: datetime | None = None
) -> OutboxMessage:
    row = OutboxMessage(
        id=f"obx_{status}_{created:%d%H%M}",
        kind=OutboxKind.SEND_EMAIL,
        school_id="sch_1",
        payload={"message_id": "msg_x"},
        idempotency_key=f"key_{status}_{created:%d%H%M}",
        created_at=created,
        status=status,
        sent_at=sent,
        last_error="550 mailbox unavailable" if status is OutboxStatus.DEAD else None,
    )
    return row


def store_outbox(app: Application, *rows: OutboxMessage) -> None:
    with app.uow() as uow:
        for row in rows:
            uow.outbox.add(row)
        uow.commit()


def a_message(
    school: School, to: PhoneNumber | EmailAddress, status: MessageStatus
) -> OutboundMessage:
    return OutboundMessage(
        id=MessageId(f"msg_{status}"),
        school_id=school.id,
        channel=Channel.SMS if isinstance(to, PhoneNumber) else Channel.EMAIL,
        type=MessageType.REMINDER,
        recipient=to,
        language="da",
        context={},
        created_at=NOW,
        status=status,
        provider="fake",
        provider_error="21211 invalid [destination]" if status is MessageStatus.FAILED else None,
        decisions=("allowed", "quiet hours: deferred"),
    )


def an_inbox_event(status: InboxStatus, event_id: str = "evt_1") -> InboxEvent:
    event = ProviderPaymentEvent(
        provider="fake",
        event_id=event_id,
        kind=PaymentEventKind.SUCCEEDED,
        occurred_at=NOW,
        raw_type="payment_intent.succeeded",
        payment_id="pay_unknown",
    )
    return InboxEvent(
        id=f"ibx_{event_id}",
        provider="fake",
        event_id=event_id,
        event_type=event.raw_type,
        received_at=NOW,
        body=b"{}",
        payload=event.to_payload(),
        status=status,
        attempts=1,
        error="NotFound: payment pay_unknown not found" if status is InboxStatus.FAILED else None,
    )


def store_inbox(app: Application, *events: InboxEvent) -> None:
    with app.uow() as uow:
        for event in events:
            uow.inbox.add(event)
        uow.commit()


# ------------------------------------------------------------------------------------------
# outbox


def test_outbox_list_shows_rows_newest_first_and_filters_by_status(app: Application) -> None:
    old, new = outbox_row(OutboxStatus.DEAD, NOW - DAY), outbox_row(OutboxStatus.PENDING, NOW)
    store_outbox(app, old, new)

    everything = run("outbox", "list")
    dead = run("outbox", "list", "--status", "DEAD")
    limited = run("outbox", "list", "--limit", "1")

    assert everything.exit_code == 0, everything.output
    assert everything.output.index(new.id) < everything.output.index(old.id)
    assert "550 mailbox unavailable" in everything.output
    assert old.id in dead.output
    assert new.id not in dead.output
    assert new.id in limited.output
    assert old.id not in limited.output


def test_outbox_list_with_nothing_says_so(app: Application) -> None:
    result = run("outbox", "list", "--status", "failed")

    assert (result.exit_code, result.output.strip()) == (0, "no outbox rows")


def test_outbox_list_refuses_a_bad_status_or_limit_with_exit_2(app: Application) -> None:
    assert run("outbox", "list", "--status", "lost").exit_code == 2
    assert run("outbox", "list", "--limit", "0").exit_code == 2
    assert run("outbox", "list", "--limit", "10001").exit_code == 2
    assert run("outbox", "list", "--limit", "many").exit_code == 2


def test_outbox_retry_revives_a_dead_row(app: Application) -> None:
    dead = outbox_row(OutboxStatus.DEAD)
    dead.payload = {"message_id": "msg_x"}
    dead.kind = OutboxKind.CAPTURE_PAYMENT  # no message to requeue
    store_outbox(app, dead)

    result = run("outbox", "retry", dead.id)

    assert result.exit_code == 0, result.output
    assert f"{dead.id} is pending again" in result.output
    with app.uow() as uow:
        row = uow.outbox.get(dead.id)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)


def test_outbox_retry_of_an_unknown_id_is_one_line_and_exit_1(app: Application) -> None:
    line = one_line_error(run("outbox", "retry", "obx_nope"), 1)

    assert line == "error: outbox message obx_nope not found"


def test_outbox_retry_of_a_row_that_is_not_dead_is_refused(app: Application) -> None:
    pending = outbox_row(OutboxStatus.PENDING)
    store_outbox(app, pending)

    line = one_line_error(run("outbox", "retry", pending.id), 1)

    assert "cannot retry" in line
    assert "pending" in line


def test_outbox_retry_without_an_id_is_a_usage_error(app: Application) -> None:
    assert run("outbox", "retry").exit_code == 2


def test_outbox_purge_sent_deletes_only_old_sent_rows(app: Application) -> None:
    old_sent = outbox_row(OutboxStatus.SENT, NOW - 40 * DAY, sent=NOW - 40 * DAY)
    new_sent = outbox_row(OutboxStatus.SENT, NOW - 2 * DAY, sent=NOW - 2 * DAY)
    old_dead = outbox_row(OutboxStatus.DEAD, NOW - 50 * DAY)
    store_outbox(app, old_sent, new_sent, old_dead)

    result = run("outbox", "purge-sent")
    again = run("outbox", "purge-sent", "--older-than-days", "1")

    assert result.exit_code == 0, result.output
    assert "purged 1 sent outbox rows older than 30 days" in result.output
    assert "purged 1 sent outbox rows older than 1 days" in again.output
    with app.uow() as uow:
        assert [row.id for row in uow.outbox.list()] == [old_dead.id]


def test_outbox_purge_sent_refuses_a_negative_age(app: Application) -> None:
    assert run("outbox", "purge-sent", "--older-than-days", "-1").exit_code == 2


# ------------------------------------------------------------------------------------------
# inbox


def test_inbox_list_shows_events_and_their_errors(app: Application) -> None:
    store_inbox(
        app, an_inbox_event(InboxStatus.FAILED), an_inbox_event(InboxStatus.PROCESSED, "e2")
    )

    result = run("inbox", "list")
    failed = run("inbox", "list", "--status", "failed")

    assert result.exit_code == 0, result.output
    assert "ibx_evt_1" in result.output
    assert "ibx_e2" in result.output
    assert "payment_intent.succeeded" in result.output
    assert "pay_unknown not found" in result.output
    assert "ibx_e2" not in failed.output
    assert run("inbox", "list", "--status", "lost").exit_code == 2


def test_inbox_replay_applies_a_failed_event_again(app: Application) -> None:
    store_inbox(app, an_inbox_event(InboxStatus.FAILED))

    result = run("inbox", "replay", "ibx_evt_1")

    assert result.exit_code == 0, result.output
    assert "ibx_evt_1 replayed: ignored" in result.output  # its payment is not ours
    with app.uow() as uow:
        event = uow.inbox.get("ibx_evt_1")
        assert (event.status, event.error, event.attempts) == (InboxStatus.IGNORED, None, 2)


def test_inbox_replay_of_an_unknown_or_processed_event_is_exit_1(app: Application) -> None:
    store_inbox(app, an_inbox_event(InboxStatus.PROCESSED))

    unknown = one_line_error(run("inbox", "replay", "ibx_nope"), 1)
    processed = one_line_error(run("inbox", "replay", "ibx_evt_1"), 1)

    assert unknown == "error: inbox event ibx_nope not found"
    assert "cannot replay" in processed
    assert "processed" in processed


def test_replay_of_an_event_whose_applying_fails_records_it_and_exits_1(
    app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_inbox(app, an_inbox_event(InboxStatus.IGNORED))

    def broken(inbox_id: str) -> EventOutcome:
        raise NotFound("payment", "pay_gone")

    monkeypatch.setattr(app.operations, "_apply_event", broken)

    line = one_line_error(run("inbox", "replay", "ibx_evt_1"), 1)

    assert line == "error: payment pay_gone not found"


# ------------------------------------------------------------------------------------------
# messages


def test_messages_list_masks_every_recipient(app: Application, school: School) -> None:
    with app.uow() as uow:
        uow.messages.add(a_message(school, PhoneNumber(PHONE), MessageStatus.FAILED))
        uow.messages.add(a_message(school, EmailAddress(EMAIL), MessageStatus.SENT))
        uow.commit()

    result = run("messages", "list")

    assert result.exit_code == 0, result.output
    assert PHONE not in result.output
    assert PHONE[1:] not in result.output
    assert EMAIL not in result.output
    assert "jonas.madsen" not in result.output
    assert PhoneNumber(PHONE).masked() in result.output
    assert EmailAddress(EMAIL).masked() in result.output
    assert "21211 invalid [destination]" in result.output  # shown as is, not as markup
    assert "quiet hours: deferred" in result.output


def test_messages_list_filters_by_school_status_and_limit(app: Application, school: School) -> None:
    other = app.register_school("Køreskolen Vest")
    with app.uow() as uow:
        uow.messages.add(a_message(school, PhoneNumber(PHONE), MessageStatus.FAILED))
        uow.messages.add(a_message(other, EmailAddress(EMAIL), MessageStatus.SENT))
        uow.commit()

    ours = run("messages", "list", "--school", school.id)
    sent = run("messages", "list", "--status", "sent")

    assert "msg_failed" in ours.output
    assert "msg_sent" not in ours.output
    assert "msg_sent" in sent.output
    assert "msg_failed" not in sent.output
    assert run("messages", "list", "--limit", "1").output.count("msg_") == 1
    assert run("messages", "list", "--status", "lost").exit_code == 2


def test_messages_list_of_an_unknown_school_is_exit_1(app: Application) -> None:
    line = one_line_error(run("messages", "list", "--school", "sch_nope"), 1)

    assert line == "error: school sch_nope not found"


def test_messages_list_with_none_says_so(app: Application, school: School) -> None:
    assert run("messages", "list").output.strip() == "no messages"


# ------------------------------------------------------------------------------------------
# the use cases themselves


def test_operations_refuse_a_limit_below_one_and_a_negative_age(app: Application) -> None:
    with pytest.raises(InvalidInput):
        app.operations.list_outbox(limit=0)
    with pytest.raises(InvalidInput):
        app.operations.purge_sent(-DAY)


def test_replay_refuses_an_inbox_row_that_is_no_payment_event(app: Application) -> None:
    marker = an_inbox_event(InboxStatus.IGNORED)
    marker.payload = {}
    store_inbox(app, marker)

    with pytest.raises(InvalidTransition):
        app.operations.replay_inbox(marker.id)


# ------------------------------------------------------------------------------------------
# check-config

GOOD_PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+psycopg://jd:hunter2-secret@db/jd",
    "PUBLIC_BASE_URL": "https://booking.example.dk",
    "PAYMENT_PROVIDER": "manual",
    "SMS_PROVIDER": "gatewayapi",
    "SMS_PROVIDER_SECRET": "gw-token-0123456789abcdefghij",
    "SMS_WEBHOOK_SECRET": "gw-webhook",
    "SMS_FROM_NUMBER": "Koereskole",
    "MAIL_MAILER": "smtp",
    "MAIL_HOST": "smtp.example.dk",
    "MAIL_PASSWORD": "mail-password-123",
    "MAIL_FROM_ADDRESS": "kontor@example.dk",
    "PAY_LINK_SECRET": "Pl5Kx8Qw2Zr7Mn4Vb9Hj3Gf6Dc1Sa0Ty",
}


def test_check_config_in_development_shows_the_settings_and_exits_0() -> None:
    result = run("check-config", env={"APP_ENV": "development"})

    assert result.exit_code == 0, result.output
    assert "APP_ENV=development: no problems" in result.output
    assert "PAYMENT_PROVIDER" in result.output
    assert "with APP_ENV=production these would stop it from starting" in result.output


def test_check_config_masks_secrets() -> None:
    result = run("check-config", env=GOOD_PRODUCTION)

    assert "hunter2-secret" not in result.output
    assert "mail-password-123" not in result.output
    assert "gw-token-0123456789abcdefghij" not in result.output


def test_check_config_of_production_misconfiguration_lists_variables_and_exits_2() -> None:
    env = {**GOOD_PRODUCTION, "DEBUG": "true", "PUBLIC_BASE_URL": "http://booking.example.dk"}
    env["DATABASE_URL"] = "sqlite:////srv/jd.db"

    result = run("check-config", env=env)

    assert result.exit_code == 2, result.output
    assert "refused to start, 3 problem(s)" in result.output
    for variable in ("DEBUG", "PUBLIC_BASE_URL", "DATABASE_URL"):
        assert any(
            line.startswith("  - ") and variable in line for line in result.output.splitlines()
        ), variable


def test_check_config_accepts_sqlite_in_production_when_explicitly_allowed() -> None:
    env = {**GOOD_PRODUCTION, "DATABASE_URL": "sqlite:////srv/jd.db"}

    refused = run("check-config", env=env)
    allowed = run("check-config", env={**env, "ALLOW_SQLITE_IN_PRODUCTION": "true"})

    assert refused.exit_code == 2
    assert allowed.exit_code == 0, allowed.output
    assert "APP_ENV=production: no problems" in allowed.output


def test_check_config_of_an_invalid_value_is_one_line_and_exit_2() -> None:
    line = one_line_error(run("check-config", env={"MAIL_PORT": "lots"}), 2)

    assert line.startswith("configuration error:")
    assert "MAIL_PORT" in line


def test_an_unexpected_error_is_one_line_too(
    app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(app.operations, "list_outbox", broken)

    line = one_line_error(run("outbox", "list"), 1)

    assert line == "error: unexpected RuntimeError: disk on fire second line"
