"""`justdriving payments connect-stripe`: a school's onboarding link, its account made once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock
from justdriving.application import Application
from justdriving.container import Container
from justdriving.entrypoints.cli import main
from memory_app import memory_application

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
URLS = ("--return-url", "https://app.example/done", "--refresh-url", "https://app.example/again")


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway(clock=FrozenClock(NOW))


@pytest.fixture
def app(gateway: FakePaymentGateway) -> Iterator[Application]:
    wired = memory_application(FrozenClock(NOW), gateway=gateway, connect=True)
    with Container.application.override(wired):
        yield wired


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def test_it_prints_the_onboarding_link_of_the_schools_one_account(
    app: Application, gateway: FakePaymentGateway
) -> None:
    school = app.register_school("Køreskolen Øst")

    first = run("payments", "connect-stripe", school.id, *URLS)
    again = run("payments", "connect-stripe", school.id, *URLS)

    assert first.exit_code == 0, first.output
    [account] = gateway.accounts
    assert first.output.startswith(f"/dev/connect/{account}?")
    assert again.output == first.output


@pytest.mark.parametrize(
    ("school", "urls"),
    [("sch_missing", URLS), (None, ("--return-url", "/done", "--refresh-url", "/again"))],
    ids=["unknown school", "relative urls"],
)
def test_bad_input_is_named_and_no_account_is_made(
    app: Application, gateway: FakePaymentGateway, school: str | None, urls: tuple[str, ...]
) -> None:
    school_id = school or app.register_school("Køreskolen Øst").id

    result = run("payments", "connect-stripe", school_id, *urls)

    assert result.exit_code != 0
    assert "error" in result.output.lower()
    assert gateway.accounts == {}
