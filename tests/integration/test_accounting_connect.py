"""Connecting a school's Xero organisation or QuickBooks company from the command line:
`justdriving accounting authorize-url` and `connect`, against the simulators and a migrated
SQLite file. The grant lands where the sync reads it; refusals are one line; no token is shown."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from attrs import evolve
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import select

from justdriving.adapters.sql import tables
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.config import AccountingProvider, Settings
from justdriving.container import bootstrap
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.money import Money
from justdriving.domain.schools import AccountMapping, InvoiceService, SchoolSettings
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.cli import main
from justdriving.testing.quickbooks.simulator import QuickBooksSimulator
from justdriving.testing.xero.simulator import XeroSimulator

REDIRECT = "https://ops.example.dk/accounting/callback"
SECOND_SCHOOL = "7a2c0e55-0000-4d1e-8f00-5151a7ed0002"


@pytest.fixture(autouse=True)
def _clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No .env of the working directory and no ACCOUNTING_* of the shell leak in."""
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "PUBLIC_BASE_URL", "DEBUG", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("ACCOUNTING_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def xero() -> Iterator[XeroSimulator]:
    with XeroSimulator() as simulator:
        yield simulator


@pytest.fixture
def quickbooks() -> Iterator[QuickBooksSimulator]:
    with QuickBooksSimulator() as simulator:
        yield simulator


def database(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'school.db'}"}
    assert cli(env, "migrate").exit_code == 0
    return env


def xero_env(tmp_path: Path, xero: XeroSimulator, **extra: str) -> dict[str, str]:
    return {
        **database(tmp_path),
        "ACCOUNTING_PROVIDER": "xero",
        "ACCOUNTING_API_KEY": xero.client_id,
        "ACCOUNTING_API_SECRET": xero.client_secret,
        "ACCOUNTING_API_BASE_URL": xero.base_url,
        "ACCOUNTING_TOKEN_URL": xero.base_url,
        "ACCOUNTING_PAYMENT_ACCOUNT": "090",
        **extra,
    }


def quickbooks_env(tmp_path: Path, quickbooks: QuickBooksSimulator) -> dict[str, str]:
    return {
        **database(tmp_path),
        "ACCOUNTING_PROVIDER": "quickbooks",
        "ACCOUNTING_API_KEY": quickbooks.client_id,
        "ACCOUNTING_API_SECRET": quickbooks.client_secret,
        "ACCOUNTING_API_BASE_URL": quickbooks.api_base,
        "ACCOUNTING_TOKEN_URL": quickbooks.token_url,
    }


def cli(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    return line


def stored(env: dict[str, str], provider: str, tenant_id: str) -> OAuthGrant | None:
    engine = make_engine(env["DATABASE_URL"])
    key = env.get("ACCOUNTING_TOKEN_KEY")
    cipher = TokenCipher([key]) if key else None
    try:
        return StoredGrants(SqlUnitOfWorkFactory(engine, cipher)).load(provider, tenant_id)
    finally:
        engine.dispose()


def raw_grants(env: dict[str, str]) -> str:
    """Every grants row as stored, as text: what a database dump would show."""
    engine = make_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return repr(connection.execute(select(tables.grants)).all())
    finally:
        engine.dispose()


def an_issued_invoice(env: dict[str, str], account: AccountMapping) -> None:
    """A school with one issued lesson invoice, for the sync to push."""
    app = bootstrap(
        evolve(Settings.from_env(env, env_file=None), accounting_provider=AccountingProvider.NONE)
    )
    settings = evolve(
        SchoolSettings(), account_map={service: account for service in InvoiceService}
    )
    school = app.register_school("Køreskolen Syd", settings=settings)
    student = app.add_student(school.id, "Freja Nielsen", email="freja@example.dk")
    lesson = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    draft = app.draft_invoice(school.id, student.id, [lesson])
    app.issue_invoice(school.id, draft.id)


def authorize_query(result: Result) -> tuple[str, dict[str, list[str]]]:
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


# --------------------------------------------------------------------------------------------
# authorize-url


def test_the_xero_authorize_url_asks_for_offline_access_and_what_the_sync_writes(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    result = cli(
        xero_env(tmp_path, xero), "accounting", "authorize-url", "--redirect-uri", REDIRECT
    )

    endpoint, query = authorize_query(result)
    assert endpoint == "https://login.xero.com/identity/connect/authorize"
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [xero.client_id]
    assert query["redirect_uri"] == [REDIRECT]
    assert set(query["scope"][0].split(" ")) == {
        "offline_access",
        "accounting.contacts",
        "accounting.invoices",
        "accounting.payments",
    }
    [state] = query["state"]
    assert len(state) >= 32
    assert f"state: {state}" in result.output


def test_the_quickbooks_authorize_url_asks_for_the_accounting_scope(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = quickbooks_env(tmp_path, quickbooks)

    first = cli(env, "accounting", "authorize-url", "--redirect-uri", REDIRECT)
    second = cli(env, "accounting", "authorize-url", "--redirect-uri", REDIRECT)

    endpoint, query = authorize_query(first)
    assert endpoint == "https://appcenter.intuit.com/connect/oauth2"
    assert query["client_id"] == [quickbooks.client_id]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [REDIRECT]
    assert "--realm-id" in first.output
    assert query["state"] != authorize_query(second)[1]["state"]  # fresh every time


def test_authorize_url_without_a_client_id_is_a_configuration_error(tmp_path: Path) -> None:
    env = {**database(tmp_path), "ACCOUNTING_PROVIDER": "xero"}

    result = cli(env, "accounting", "authorize-url", "--redirect-uri", REDIRECT)

    line = one_line_error(result, 2)
    assert "ACCOUNTING_API_KEY" in line


def test_authorize_url_for_a_provider_without_oauth_is_refused(tmp_path: Path) -> None:
    env = {**database(tmp_path), "ACCOUNTING_PROVIDER": "csv"}

    result = cli(env, "accounting", "authorize-url", "--redirect-uri", REDIRECT)

    assert "xero or quickbooks" in one_line_error(result, 2)


# --------------------------------------------------------------------------------------------
# connect: Xero


def test_connecting_xero_stores_the_grant_and_the_next_sync_pushes_with_it(
    tmp_path: Path, xero: XeroSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env = xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id)
    code = xero.authorization_code(REDIRECT)

    with caplog.at_level(logging.DEBUG):
        result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    assert result.exit_code == 0, result.output
    assert xero.tenant_id in result.output
    assert "Køreskolen Demo ApS" in result.output
    grant = stored(env, "xero", xero.tenant_id)
    assert grant is not None
    for secret in (grant.access_token, grant.refresh_token, code, xero.client_secret):
        assert secret not in result.output
        assert secret not in caplog.text

    an_issued_invoice(env, AccountMapping("200", "OUTPUT"))
    synced = cli(env, "sync-accounting")
    assert synced.exit_code == 0, synced.output
    assert xero.count("invoices") == 1
    assert xero.count("contacts") == 1


def test_with_a_token_key_connect_and_sync_keep_the_tokens_encrypted_in_the_database(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    key = Fernet.generate_key().decode()
    env = xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id, ACCOUNTING_TOKEN_KEY=key)
    code = xero.authorization_code(REDIRECT)
    assert (
        cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT).exit_code == 0
    )
    connected = stored(env, "xero", xero.tenant_id)
    assert connected is not None

    an_issued_invoice(env, AccountMapping("200", "OUTPUT"))
    xero.expire_access_tokens()  # the sync refreshes, and stores the rotated tokens
    synced = cli(env, "sync-accounting")

    assert synced.exit_code == 0, synced.output
    assert xero.count("invoices") == 1
    grant = stored(env, "xero", xero.tenant_id)
    assert grant is not None
    assert grant.refresh_token != connected.refresh_token
    assert xero.refresh_tokens() == {grant.refresh_token}
    dump = raw_grants(env)
    for token in (
        connected.access_token,
        connected.refresh_token,
        grant.access_token,
        grant.refresh_token,
    ):
        assert token not in dump
    assert key not in dump + synced.output


def test_with_one_organisation_and_no_tenant_set_xero_connects_it_and_says_what_to_set(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    env = xero_env(tmp_path, xero)

    result = cli(
        env, "accounting", "connect", "--code", xero.authorization_code(REDIRECT),
        "--redirect-uri", REDIRECT,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert f"ACCOUNTING_TENANT_ID={xero.tenant_id}" in result.output
    assert stored(env, "xero", xero.tenant_id) is not None


def test_several_xero_organisations_without_a_tenant_set_are_refused_listing_them(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    xero.connections[SECOND_SCHOOL] = "Køreskolen Vest ApS"
    env = xero_env(tmp_path, xero)

    result = cli(
        env, "accounting", "connect", "--code", xero.authorization_code(REDIRECT),
        "--redirect-uri", REDIRECT,
    )  # fmt: skip

    line = one_line_error(result, 2)
    assert "several Xero organisations" in line
    assert f"Køreskolen Demo ApS ({xero.tenant_id})" in line
    assert f"Køreskolen Vest ApS ({SECOND_SCHOOL})" in line
    assert "ACCOUNTING_TENANT_ID" in line
    assert stored(env, "xero", xero.tenant_id) is None
    assert stored(env, "xero", SECOND_SCHOOL) is None


def test_with_several_organisations_the_configured_tenant_is_connected(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    xero.connections[SECOND_SCHOOL] = "Køreskolen Vest ApS"
    env = xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=SECOND_SCHOOL)

    result = cli(
        env, "accounting", "connect", "--code", xero.authorization_code(REDIRECT),
        "--redirect-uri", REDIRECT,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Køreskolen Vest ApS" in result.output
    assert stored(env, "xero", SECOND_SCHOOL) is not None
    assert stored(env, "xero", xero.tenant_id) is None


def test_a_reused_xero_code_is_refused_and_the_first_grant_stays(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    env = xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id)
    code = xero.authorization_code(REDIRECT)
    assert (
        cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT).exit_code == 0
    )
    first = stored(env, "xero", xero.tenant_id)
    assert first is not None

    again = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    line = one_line_error(again, 1)
    assert "invalid_grant" in line
    assert "authorize-url" in line
    after = stored(env, "xero", xero.tenant_id)
    assert after is not None
    assert after.refresh_token == first.refresh_token


def test_a_xero_code_for_another_redirect_uri_is_refused_and_nothing_is_stored(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    env = xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id)
    code = xero.authorization_code("https://elsewhere.example.dk/callback")

    result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    assert "invalid_grant" in one_line_error(result, 1)
    assert stored(env, "xero", xero.tenant_id) is None


def test_a_wrong_xero_client_secret_is_a_configuration_error_and_is_not_shown(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    env = xero_env(
        tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id, ACCOUNTING_API_SECRET="not-it-42"
    )

    result = cli(
        env, "accounting", "connect", "--code", xero.authorization_code(REDIRECT),
        "--redirect-uri", REDIRECT,
    )  # fmt: skip

    line = one_line_error(result, 2)
    assert "ACCOUNTING_API_SECRET" in line
    assert "not-it-42" not in line
    assert stored(env, "xero", xero.tenant_id) is None


def test_connect_refuses_an_unmigrated_database_before_spending_the_code(
    tmp_path: Path, xero: XeroSimulator
) -> None:
    env = {
        **xero_env(tmp_path, xero, ACCOUNTING_TENANT_ID=xero.tenant_id),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
    }
    code = xero.authorization_code(REDIRECT)

    result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    assert "justdriving migrate" in one_line_error(result, 2)
    assert xero.redeem(code, REDIRECT) is not None  # still good for the next try


# --------------------------------------------------------------------------------------------
# connect: QuickBooks


def test_connecting_quickbooks_stores_the_grant_and_the_next_sync_pushes_with_it(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = quickbooks_env(tmp_path, quickbooks)
    code = quickbooks.authorization_code(REDIRECT)

    result = cli(
        env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT,
        "--realm-id", quickbooks.realm_id,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert quickbooks.realm_id in result.output
    grant = stored(env, "quickbooks", quickbooks.realm_id)
    assert grant is not None
    for secret in (grant.access_token, grant.refresh_token, code, quickbooks.client_secret):
        assert secret not in result.output

    env["ACCOUNTING_TENANT_ID"] = quickbooks.realm_id
    an_issued_invoice(env, AccountMapping("1000", "U25"))
    synced = cli(env, "sync-accounting")
    assert synced.exit_code == 0, synced.output
    assert quickbooks.count("invoices") == 1
    assert quickbooks.refreshes == 0  # the connected access token was used as it came


def test_quickbooks_needs_the_realm_id(tmp_path: Path, quickbooks: QuickBooksSimulator) -> None:
    env = quickbooks_env(tmp_path, quickbooks)
    code = quickbooks.authorization_code(REDIRECT)

    result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    assert "--realm-id" in one_line_error(result, 2)


def test_a_reused_quickbooks_code_is_refused(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = {**quickbooks_env(tmp_path, quickbooks), "ACCOUNTING_TENANT_ID": quickbooks.realm_id}
    code = quickbooks.authorization_code(REDIRECT)
    args = ("accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)
    assert cli(env, *args).exit_code == 0

    line = one_line_error(cli(env, *args), 1)

    assert "invalid_grant" in line
    assert "authorize-url" in line


def test_a_quickbooks_code_for_another_redirect_uri_is_refused_and_nothing_is_stored(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = {**quickbooks_env(tmp_path, quickbooks), "ACCOUNTING_TENANT_ID": quickbooks.realm_id}
    code = quickbooks.authorization_code("https://elsewhere.example.dk/callback")

    result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    assert "invalid_grant" in one_line_error(result, 1)
    assert stored(env, "quickbooks", quickbooks.realm_id) is None


def test_a_wrong_quickbooks_client_secret_is_a_configuration_error(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = {
        **quickbooks_env(tmp_path, quickbooks),
        "ACCOUNTING_TENANT_ID": quickbooks.realm_id,
        "ACCOUNTING_API_SECRET": "not-it-42",
    }
    code = quickbooks.authorization_code(REDIRECT)

    result = cli(env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT)

    line = one_line_error(result, 2)
    assert "invalid_client" in line
    assert "not-it-42" not in line
    assert stored(env, "quickbooks", quickbooks.realm_id) is None


def test_a_realm_id_other_than_the_configured_one_is_refused(
    tmp_path: Path, quickbooks: QuickBooksSimulator
) -> None:
    env = {**quickbooks_env(tmp_path, quickbooks), "ACCOUNTING_TENANT_ID": quickbooks.realm_id}
    code = quickbooks.authorization_code(REDIRECT)

    result = cli(
        env, "accounting", "connect", "--code", code, "--redirect-uri", REDIRECT,
        "--realm-id", "4620816365000000",
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "ACCOUNTING_TENANT_ID" in result.output
    assert stored(env, "quickbooks", "4620816365000000") is None


# --------------------------------------------------------------------------------------------
# connect --school: books per school


def a_school_with_an_invoice(env: dict[str, str], name: str) -> str:
    """A school with one issued lesson invoice (on the demo organisation's revenue account)."""
    app = bootstrap(
        evolve(Settings.from_env(env, env_file=None), accounting_provider=AccountingProvider.NONE)
    )
    account = AccountMapping("200", "OUTPUT")
    settings = evolve(
        SchoolSettings(), account_map={service: account for service in InvoiceService}
    )
    school = app.register_school(name, settings=settings)
    student = app.add_student(school.id, "Freja Nielsen", email="freja@example.dk")
    lesson = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [lesson]).id)
    return school.id


def test_each_school_connects_its_own_organisation_and_the_sync_pushes_there(
    tmp_path: Path, xero: XeroSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env = xero_env(tmp_path, xero)  # no ACCOUNTING_TENANT_ID: no platform-wide organisation
    xero.add_organisation(SECOND_SCHOOL, "Køreskolen Syd ApS")
    north = a_school_with_an_invoice(env, "Køreskolen Nord")
    south = a_school_with_an_invoice(env, "Køreskolen Syd")
    east = a_school_with_an_invoice(env, "Køreskolen Øst")

    url = cli(env, "accounting", "authorize-url", "--redirect-uri", REDIRECT, "--school", north)
    assert f"--school {north}" in url.output
    with caplog.at_level(logging.DEBUG):
        for school, tenant in ((north, xero.tenant_id), (south, SECOND_SCHOOL)):
            # north's bookkeeper picks its one organisation; south's consent reaches both, so
            # the organisation is named
            reach = (tenant,) if school == north else ()
            code = xero.authorization_code(REDIRECT, reach)
            args = ("--code", code, "--redirect-uri", REDIRECT, "--school", school)
            named = ("--tenant-id", tenant) if school == south else ()
            result = cli(env, "accounting", "connect", *args, *named)
            assert result.exit_code == 0, result.output
            assert f"({tenant}) as the books of school {school}" in result.output
    synced = cli(env, "sync-accounting")

    assert synced.exit_code == 0, synced.output  # east is reported, not failed
    assert f"{east}: not connected" in synced.output
    assert (xero.count("invoices"), xero.count("invoices", SECOND_SCHOOL)) == (1, 1)
    assert stored(env, "xero", xero.tenant_id) is None  # the schools', not the platform's
    engine = make_engine(env["DATABASE_URL"])
    grant = StoredGrants(SqlUnitOfWorkFactory(engine)).for_school("xero", north)
    engine.dispose()
    assert grant is not None
    assert grant.tenant_id == xero.tenant_id
    for secret in (grant.access_token, grant.refresh_token):
        assert secret not in caplog.text
        assert secret not in synced.output
    unknown = cli(env, "accounting", "connect", "--code", "x", "--redirect-uri", REDIRECT,
                  "--school", "sch_unknown")  # fmt: skip
    assert unknown.exit_code != 0
    assert "sch_unknown" in unknown.output
