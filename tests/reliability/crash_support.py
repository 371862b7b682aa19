"""Processes for the crash campaign: the web tier and the worker as real child processes that
can be killed with SIGKILL and started again, and a Stripe that delivers its webhooks the way
Stripe does (every event, in order, retried until the endpoint answers 2xx)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from justdriving.testing.stripe.simulator import StripeSimulator

CLI = [sys.executable, "-c", "from justdriving.entrypoints.cli import main; main()"]


class Tier:
    """One of the platform's processes (`justdriving serve`, `justdriving worker`), started in a
    session of its own so that a kill takes the whole tier (gunicorn's master and workers)."""

    def __init__(
        self, name: str, arguments: list[str], env: Mapping[str, str], folder: Path
    ) -> None:
        self.name, self._arguments, self._env, self._folder = name, arguments, dict(env), folder
        self._process: subprocess.Popen[bytes] | None = None
        self.incarnations = 0
        self.kills = 0

    def start(self) -> None:
        self.incarnations += 1
        log = (self._folder / f"{self.name}_{self.incarnations}.log").open("wb")
        self._process = subprocess.Popen(
            [*CLI, *self._arguments],
            env=self._env,
            cwd=self._folder,  # no developer's .env is read
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL to every process of the tier: no handler, no cleanup, no last commit."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # it died by itself
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.kills += 1

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def output_all(self) -> str:
        """Everything the current incarnation wrote."""
        path = self._folder / f"{self.name}_{self.incarnations}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def output(self) -> str:
        """The end of the current incarnation's output, for failure messages."""
        path = self._folder / f"{self.name}_{self.incarnations}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class StripeDeliveries(threading.Thread):
    """Stripe's webhook sender: every event the account records goes to `endpoint`, in order,
    signed at the moment of each attempt, and is tried again (after `pause` s) until the
    endpoint answers 2xx, as Stripe retries a failed delivery. Counts attempts and answers."""

    def __init__(self, stripe: StripeSimulator, endpoint: str, pause: float = 0.1) -> None:
        super().__init__(name="stripe-webhooks", daemon=True)
        self._stripe, self._endpoint, self._pause = stripe, endpoint, pause
        self._halt = threading.Event()
        self.delivered = 0
        self.attempts = 0
        self.refused: dict[int, int] = {}  # non-2xx status -> count (connection errors: 0)

    def run(self) -> None:
        while not self._halt.is_set():
            if self.delivered >= len(self._stripe.events):
                self._halt.wait(0.02)
                continue
            event = self._stripe.events[self.delivered]
            while not self._halt.is_set() and not self._post(event):
                self._halt.wait(self._pause)
            self.delivered += 1

    def drained(self) -> bool:
        return self.delivered >= len(self._stripe.events)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def _post(self, event: dict[str, object]) -> bool:
        body, headers = self._stripe.deliver(event)
        request = urllib.request.Request(self._endpoint, data=body, headers=headers, method="POST")
        self.attempts += 1
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return 200 <= answer.status < 300
        except urllib.error.HTTPError as error:
            self.refused[error.code] = self.refused.get(error.code, 0) + 1
            return False
        except OSError:  # refused, reset or cut off: the web tier is down or was just killed
            self.refused[0] = self.refused.get(0, 0) + 1
            return False
