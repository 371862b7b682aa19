"""The `sync-accounting` and `export-accounting` commands and the worker's sync schedule, on
an application wired to fakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.container import Container
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.schools import InvoiceService
from justdriving.entrypoints.cli import main
from justdriving.entrypoints.worker import Worker

from .test_accounting_export import RecordingExporter
from .test_accounting_fixtures import (
    ACCOUNTS,
    NO_WAIT,
    accounting_school,
    busy_school,
    invoice,
    student,
)


@pytest.fixture
def fake() -> FakeAccountingClient:
    return FakeAccountingClient(max_batch=2)


@pytest.fixture
def wired(
    store: MemoryStore,
    clock: FrozenClock,
    fake: FakeAccountingClient,
) -> Iterator[Application]:
    app = Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=fake,
        exporter=RecordingExporter(),
        accounting_retry=NO_WAIT,
    )
    with Container.application.override(app):
        yield app


def test_sync_accounting_prints_the_report_and_exits_0(
    wired: Application, fake: FakeAccountingClient
) -> None:
    books = busy_school(wired)

    result = CliRunner().invoke(main, ["sync-accounting"])

    assert result.exit_code == 0, result.output
    assert books.school.id in result.output
    assert "pushed" in result.output
    assert len(fake.invoices) == 5


def test_a_dry_run_for_one_school_pushes_nothing(
    wired: Application, fake: FakeAccountingClient
) -> None:
    books = busy_school(wired)

    result = CliRunner().invoke(
        main, ["sync-accounting", "--school", books.school.id, "--since", "2025-03-01", "--dry-run"]
    )

    assert result.exit_code == 0, result.output
    assert "would push" in result.output
    assert fake.calls == []


def test_a_failed_record_is_printed_with_its_reason_and_exits_1(wired: Application) -> None:
    school = accounting_school(
        wired, accounts={InvoiceService.LESSON: ACCOUNTS[InvoiceService.LESSON]}
    )
    invoice(wired, school, student(wired, school, "Bo Berg"), (InvoiceService.MATERIALS, "9.00"))

    result = CliRunner().invoke(main, ["sync-accounting", "--school", school.id])

    assert result.exit_code == 1
    assert "no account code for materials in Køreskolen Vest" in result.output


def test_a_daily_limit_is_reported_as_stopped_early_and_exits_1(
    wired: Application, fake: FakeAccountingClient
) -> None:
    busy_school(wired)
    fake.fail_next(ProviderUnavailable("fake", "day limit", provider_code="daily_limit"))

    result = CliRunner().invoke(main, ["sync-accounting"])

    assert result.exit_code == 1
    assert "daily limit" in result.output


def test_an_unknown_school_exits_1_and_a_bad_date_2(wired: Application) -> None:
    unknown = CliRunner().invoke(main, ["sync-accounting", "--school", "sch_nope"])
    bad_date = CliRunner().invoke(main, ["sync-accounting", "--since", "1 March"])

    assert unknown.exit_code == 1
    assert "not found" in unknown.output
    assert bad_date.exit_code == 2


def test_without_a_provider_the_command_exits_2(app: Application) -> None:
    with Container.application.override(app):
        result = CliRunner().invoke(main, ["sync-accounting"])

    assert result.exit_code == 2
    assert "ACCOUNTING_PROVIDER is none" in result.output
    assert "set ACCOUNTING_PROVIDER=csv" in result.output  # what to do about it


def test_export_accounting_writes_and_names_the_files(wired: Application) -> None:
    busy_school(wired)

    result = CliRunner().invoke(main, ["export-accounting", "--format", "ledger"])

    assert result.exit_code == 0, result.output
    assert f"wrote {Path('ledger.csv')}" in result.output
    assert "csv:ledger" in result.output


def test_export_accounting_needs_a_known_format(wired: Application) -> None:
    result = CliRunner().invoke(main, ["export-accounting", "--format", "sage"])

    assert result.exit_code == 2


def test_the_worker_syncs_every_interval_when_enabled(
    wired: Application, fake: FakeAccountingClient
) -> None:
    busy_school(wired)
    now = [0.0]
    worker = Worker(wired, monotonic=lambda: now[0], accounting_sync_every=600)

    worker.tick()
    calls = len(fake.calls)
    now[0] = 599.0
    worker.tick()
    assert len(fake.calls) == calls
    now[0] = 601.0
    worker.tick()

    assert calls == 8
    assert len(fake.calls) == calls  # nothing new: the second sync pushed nothing


def test_the_worker_does_not_sync_when_disabled(
    wired: Application, fake: FakeAccountingClient
) -> None:
    busy_school(wired)

    Worker(wired).tick()

    assert fake.calls == []
