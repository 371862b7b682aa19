"""`justdriving run` and `justdriving serve` as a user starts them: real processes, real ports."""

from __future__ import annotations

import http.cookiejar
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod
from justdriving.entrypoints.demo_school import DEMO_SCHOOL, ensure_demo

CLI = Path(sys.executable).with_name("justdriving")
BANNER_END = "Ctrl-C stops"


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment without any justdriving setting, plus `extra`."""
    settings = {field.name.upper() for field in attrs.fields(Settings)}
    return {k: v for k, v in os.environ.items() if k not in settings} | extra


class Process:
    """A `justdriving` command in `folder`, its stdout read line by line in a thread."""

    def __init__(self, folder: Path, *args: str, **env: str) -> None:
        if not CLI.exists():
            pytest.skip(f"{CLI} is not installed")
        self.stderr = folder / f"{args[0]}.stderr"
        self.popen = subprocess.Popen(
            [str(CLI), *args],
            cwd=folder,
            env=_environment(**env),
            stdout=subprocess.PIPE,
            stderr=self.stderr.open("w"),
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, seconds: float = 30) -> list[str]:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.output):
            left = deadline - time.monotonic()
            try:
                self.output.append(self.lines.get(timeout=max(left, 0.01)))
            except queue.Empty:
                pytest.fail(f"no {text!r} in {self.output}; stderr: {self.stderr.read_text()}")
        return self.output

    def url(self, label: str) -> str:
        found = next(line for line in self.output if line.strip().startswith(label))
        match = re.search(r"http://\S+", found)
        assert match is not None
        return match[0]

    def stop(self, sig: signal.Signals) -> int:
        self.popen.send_signal(sig)
        code = self.popen.wait(timeout=20)
        self.until("stopped" if code == 0 else "")
        return code


@contextmanager
def started(folder: Path, *args: str, **env: str) -> Iterator[Process]:
    process = Process(folder, *args, **env)
    try:
        yield process
    finally:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(10)


def _get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _pay(checkout_url: str) -> str:
    """Click "Pay" on the checkout page; the result page's text once the invoice is paid."""
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    _, page = _get(checkout_url, browser)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = urllib.parse.urlencode({"outcome": "pay", "csrf_token": token[1]}).encode()
    browser.open(checkout_url, data=form, timeout=10).close()
    deadline = time.monotonic() + 15
    while True:
        _, result = _get(checkout_url + "/result", browser)
        if '<dd id="invoice-status">paid</dd>' in result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_run_serves_everything_pays_through_its_worker_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    with started(tmp_path, "run", "--port", "0") as first:
        banner = first.until(BANNER_END)
        health, checkout, webhooks = (first.url(x) for x in ("health:", "checkout:", "webhooks:"))

        assert _get(health) == (200, '{"status":"ok","version":"0.1.0"}\n')
        assert _get(health.replace("healthz", "readyz"))[0] == 200
        assert _get(webhooks)[0] == 405
        assert "demo invoice no. 1, 500.00 DKK" in banner[2]
        result = _pay(checkout)  # the worker thread applies the delivered webhook
        assert '<dd id="invoice-status">paid</dd>' in result

        assert first.stop(signal.SIGTERM) == 0
    assert (tmp_path / "justdriving.db").exists()

    with started(tmp_path, "run", "--port", "0") as second:
        banner = second.until(BANNER_END)
        # The same school (its numbering goes on), a new invoice: the first one is paid.
        assert "demo invoice no. 2, 500.00 DKK" in banner[2]
        assert second.stop(signal.SIGINT) == 0


def test_serve_refuses_an_unmigrated_database_then_serves_a_migrated_one(tmp_path: Path) -> None:
    with started(tmp_path, "serve", "--port", "0") as refused:
        assert refused.popen.wait(timeout=30) == 2
    assert "justdriving migrate" in (tmp_path / "serve.stderr").read_text()

    subprocess.run([str(CLI), "migrate"], cwd=tmp_path, env=_environment(), check=True)
    with started(tmp_path, "serve", "--port", "0") as serving:
        line = serving.until("serving on")[-1]
        base = re.search(r"http://\S+", line)
        assert base is not None
        assert _get(base[0] + "/readyz")[0] == 200
        assert serving.stop(signal.SIGINT) == 0


def test_run_refuses_production(tmp_path: Path) -> None:
    with started(tmp_path, "run", "--port", "0", APP_ENV="production") as refused:
        assert refused.popen.wait(timeout=30) == 2
    assert "configuration error" in (tmp_path / "run.stderr").read_text()


def _sqlite_app(folder: Path) -> Application:
    container = build_container(Settings(database_url=f"sqlite:///{folder / 'demo.db'}"))
    upgrade(container.engine())
    app: Application = container.application()
    return app


def test_the_demo_is_created_once_and_found_again(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path)

    first = ensure_demo(app)
    again = ensure_demo(_sqlite_app(tmp_path))

    assert again == first
    assert first.number == "1"
    assert first.outstanding == Money.parse("500.00", "DKK")
    with app.uow() as uow:
        assert [s.name for s in uow.schools.list()] == [DEMO_SCHOOL]
        assert len(uow.teachers.for_school(first.school_id)) == 1


def test_a_paid_demo_invoice_is_followed_by_a_new_one(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path)
    first = ensure_demo(app)
    app.record_manual_payment(
        first.school_id,
        first.student_id,
        amount=first.outstanding,
        method=PaymentMethod.CASH,
        invoice_id=first.invoice_id,
    )

    second = ensure_demo(app)

    assert (second.school_id, second.student_id) == (first.school_id, first.student_id)
    assert (second.invoice_id, second.number) != (first.invoice_id, first.number)


def test_a_port_in_use_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with started(tmp_path, "run", "--port", port) as refused:
            assert refused.popen.wait(timeout=30) == 2
    error = (tmp_path / "run.stderr").read_text()
    assert f"cannot listen on 127.0.0.1:{port}" in error
    assert "Traceback" not in error


def test_in_development_sent_messages_are_reported_delivered_like_a_provider_would() -> None:
    from justdriving.adapters.memory import FrozenClock
    from justdriving.domain.messages import MessageStatus
    from justdriving.entrypoints.demo_school import ensure_demo
    from justdriving.entrypoints.run import simulate_delivery_receipts

    # Mid-morning in Copenhagen: the demo's SMS is not held back by the school's quiet hours
    # (whose own tests pin a night hour), whatever the hour this suite runs at.
    container = build_container(Settings.from_env({"DATABASE_URL": "memory://"}, env_file=None))
    container.clock.override(FrozenClock(datetime(2027, 1, 15, 9, 30, tzinfo=UTC)))
    app = container.application()
    demo = ensure_demo(app)
    app.relay_outbox()

    assert simulate_delivery_receipts(app) >= 1
    assert simulate_delivery_receipts(app) == 0
    with app.uow() as uow:
        statuses = {m.status for m in uow.messages.for_school(demo.school_id)}
    assert statuses == {MessageStatus.DELIVERED}
