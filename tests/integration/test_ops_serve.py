"""Money and the ops page as a newcomer meets them, against real processes on one SQLite
file: "is invoice 3 paid, by what, and what does Jonas owe?" from `justdriving invoices show`
and `balances`, and from the ops page under `justdriving serve` with two gunicorn workers;
then twenty genuine retry posts against those two workers, every one accepted."""

from __future__ import annotations

import base64
import http.cookiejar
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.test_web_run import CLI, Process, _environment, started
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from money_scenario import MoneyScenario, seed_money

TOKEN = "serve-ops-token"
POSTS = 20


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops-serve")


@pytest.fixture(scope="module")
def database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'justdriving.db'}"
    upgrade(make_engine(url))
    return url


@pytest.fixture(scope="module")
def app(database: str) -> Application:
    container = build_container(Settings(database_url=database))
    # The commands read the machine's clock: the school's month is laid out before it.
    container.clock.override(FrozenClock(SystemClock().now()))
    application: Application = container.application()
    return application


@pytest.fixture(scope="module")
def money(app: Application) -> MoneyScenario:
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    return seed_money(app, clock)


@pytest.fixture(scope="module")
def server(folder: Path, database: str, money: MoneyScenario) -> Iterator[str]:
    with started(
        folder, "serve", "--port", "0", "--workers", "2", DATABASE_URL=database, OPS_TOKEN=TOKEN
    ) as serving:
        line = serving.until("serving on", seconds=60)[-1]
        assert "2 worker(s)" in line
        base = re.search(r"http://\S+", line)
        assert base is not None
        yield base[0]
        _stop(serving)


def _stop(serving: Process) -> None:
    serving.popen.terminate()
    serving.popen.wait(timeout=30)


def cli(database: str, *args: str) -> str:
    done = subprocess.run(
        [str(CLI), *args],
        env=_environment(DATABASE_URL=database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def browser() -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
    )
    basic = base64.b64encode(f"office:{TOKEN}".encode()).decode()
    opener.addheaders = [("Authorization", f"Basic {basic}")]
    return opener


def fetch(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None
) -> tuple[int, str]:
    try:
        with opener.open(url, data=data, timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def words(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_cli_says_invoice_3_is_paid_by_mobilepay_and_jonas_owes_500(
    database: str, money: MoneyScenario
) -> None:
    shown = cli(database, "invoices", "show", "3")
    owed = cli(database, "balances", "--student", "Jonas")

    assert "invoice 3" in shown
    assert ": paid" in shown
    assert "750.00 DKK of 750.00 DKK by mobilepay ref MP-1234, succeeded" in shown
    assert "Jonas Madsen owes 500.00 DKK" in shown
    assert "Jonas Madsen" in owed
    assert "500.00 DKK" in owed


def test_the_ops_page_says_the_same_in_english_and_in_danish(
    server: str, money: MoneyScenario
) -> None:
    office = browser()
    status, found = fetch(office, f"{server}/ops?lang=en&student=Jonas")
    assert status == 200
    assert f'href="/ops/invoices/{money.invoice_3}"' in found
    assert "Jonas Madsen Køreskolen Øst 500.00 DKK" in words(found)

    status, invoice = fetch(office, f"{server}/ops/invoices/{money.invoice_3}")
    assert status == 200  # the language chosen stays
    assert "Invoice 3 paid" in words(invoice)
    assert "mobilepay (ref MP-1234)" in words(invoice)
    assert "Jonas Madsen owes 500.00 DKK" in words(invoice)

    status, danish = fetch(office, f"{server}/ops/invoices/{money.invoice_3}?lang=da")
    assert status == 200
    assert "Faktura 3 betalt" in words(danish)
    assert "Jonas Madsen skylder 500,00 DKK" in words(danish)


def test_twenty_retry_posts_against_two_workers_are_all_accepted(
    app: Application, server: str
) -> None:
    rows = [_dead_row(app, n) for n in range(POSTS)]
    office = browser()
    answers = []
    for row in rows:  # as a person does it: load the page, press Retry, land on the page
        status, page = fetch(office, f"{server}/ops")
        assert status == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = urllib.parse.urlencode({"csrf_token": token[1]}).encode()
        answers.append(fetch(office, f"{server}/ops/outbox/{row}/retry", form)[0])

    assert answers == [303] * POSTS
    with app.uow() as uow:
        assert all(uow.outbox.get(row).status is OutboxStatus.PENDING for row in rows)


def _dead_row(app: Application, n: int) -> str:
    row = OutboxMessage(
        id=new_id("obx"),
        kind=OutboxKind.CAPTURE_PAYMENT,  # reviving it touches nothing else
        school_id="sch_gone",
        payload={"payment_id": f"pay_gone_{n}"},
        idempotency_key=new_id("key"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=OutboxStatus.DEAD,
        attempts=5,
        last_error="provider said no",
    )
    with app.uow() as uow:
        uow.outbox.add(row)
        uow.commit()
    return row.id
