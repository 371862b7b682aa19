"""`justdriving payments paypal-account`: a school's own PayPal account, the secret asked for
(never an argument, never printed); an unknown school or malformed credentials are one line,
exit 1, nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.container import Container
from justdriving.entrypoints.cli import main
from memory_app import memory_application

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
CLIENT, SECRET, WEBHOOK = "AbNorthClient0000000001", "EbNorthSecret000000000001", "WHNORTH0000001"


@pytest.fixture
def app() -> Iterator[Application]:
    wired = memory_application(FrozenClock(NOW))
    with Container.application.override(wired):
        yield wired


def run(school_id: str, secret: str, client_id: str = CLIENT) -> Result:
    args = ["payments", "paypal-account", "--school", school_id, "--client-id", client_id]
    result = CliRunner().invoke(main, [*args, "--webhook-id", WEBHOOK], input=f"{secret}\n")
    assert "Traceback" not in result.output
    return result


def test_the_account_is_set_and_its_webhook_url_shown_never_its_secret(app: Application) -> None:
    school = app.register_school("Køreskolen Nord")

    result = run(school.id, SECRET)

    assert result.exit_code == 0, result.output
    assert f"/webhook/payments/paypal/{school.id}" in result.output
    assert SECRET not in result.output
    shown = app.school_paypal(school.id)
    assert shown is not None
    assert (shown.client_id, shown.webhook_id) == (CLIENT, WEBHOOK)


@pytest.mark.parametrize(("school", "secret", "client"), [
    ("sch_unknown", SECRET, CLIENT),
    (None, "short", CLIENT),
    (None, SECRET, "has space 0000001"),
])  # fmt: skip
def test_a_refusal_is_one_line_and_stores_nothing(
    app: Application, school: str | None, secret: str, client: str
) -> None:
    known = app.register_school("Køreskolen Nord")

    result = run(school or known.id, secret, client)

    assert result.exit_code == 1, result.output
    assert SECRET not in result.output
    assert app.school_paypal(known.id) is None
