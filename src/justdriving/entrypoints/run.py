"""`justdriving run` (everything in one process, for development) and `justdriving serve`.

`run` migrates the database, makes sure a demo school with an open invoice exists
(`demo_school`), starts a payment for it, runs the worker in a background
thread and serves the web app with waitress until Ctrl-C or SIGTERM, then stops both.
`serve` runs the web app alone: the worker runs elsewhere (`justdriving worker`).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final
from urllib.parse import urljoin

import attrs
import click

from justdriving import __version__
from justdriving.adapters.sql.schema import pending, upgrade
from justdriving.application import Application
from justdriving.config import QueueBackend, Settings
from justdriving.container import Container, build_container
from justdriving.domain.delivery import DeliveryReceipt
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.entrypoints.demo_school import DemoInvoice, ensure_demo
from justdriving.entrypoints.flask_app import create_app, serving_app
from justdriving.entrypoints.schedule import scheduled
from justdriving.entrypoints.web.server import WebServer
from justdriving.entrypoints.worker import Worker

log = logging.getLogger("justdriving.run")

WORKER_RESTART_DELAY: Final = 5.0

Echo = Callable[[str], None]


def run(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, echo: Echo = click.echo
) -> None:
    """Migrate, seed the demo, and serve the app with the worker beside it until stopped."""
    if settings.is_production:
        raise ConfigurationError(
            "`justdriving run` is for development: it seeds demo data",
            ["APP_ENV=production: run `justdriving serve` and `justdriving worker` instead"],
        )
    one_off = None
    if not settings.ops_token:  # the ops page is on for this run, behind a one-off password
        one_off = secrets.token_urlsafe(12)
        settings = attrs.evolve(settings, ops_token=one_off)
    if not settings.public_base_url and port:  # pay links in e-mails and PDFs point here
        settings = attrs.evolve(settings, public_base_url=_local_url(host, port))
    container = build_container(settings)
    if container.config.database() == "sql":
        upgrade(container.engine())
    server = _listen(container, host, port)
    app: Application = container.application()
    demo = ensure_demo(app)
    started = app.start_invoice_payment(demo.school_id, demo.invoice_id)
    worker = (
        None
        if settings.queue_backend is QueueBackend.CELERY
        else DevWorker(app, jobs=scheduled(settings))
    )
    with _stop_on_signals(server, worker), _worker_thread(worker):
        pay_path = app.payer.link_path(demo.invoice_id)
        checkout = started.session.redirect_url
        for line in _banner(settings, server.url, checkout, demo, pay_path, one_off):
            echo(line)
        server.serve()
    echo("stopped")


class DevWorker(Worker):
    """The worker, plus what providers would do in development: a message a fake or log
    sender took is reported delivered a moment later, through the same receipts path a
    Twilio or SendGrid callback takes."""

    def tick(self) -> bool:
        busy = super().tick()
        simulate_delivery_receipts(self._app)
        return busy


SIMULATED_PROVIDERS = frozenset({"fake", "log"})


def simulate_delivery_receipts(app: Application) -> int:
    """Report every message sent through a fake or log sender as delivered."""
    now = app.clock.now()
    by_channel: dict[Channel, list[DeliveryReceipt]] = {Channel.SMS: [], Channel.EMAIL: []}
    for message in app.operations.sent_through(SIMULATED_PROVIDERS):
        by_channel[message.channel].append(
            DeliveryReceipt(
                provider=message.provider,
                event_id=f"simulated:{message.id}:delivered",
                provider_message_id=message.provider_message_id,
                status=MessageStatus.DELIVERED,
                occurred_at=now,
                reference=message.id,
            )
        )
    applied = 0
    for channel, receipts in by_channel.items():
        if receipts:
            applied += app.apply_message_receipts(channel, receipts).applied
    return applied


def _banner(
    settings: Settings,
    base: str,
    checkout: str | None,
    demo: DemoInvoice,
    pay_path: str,
    one_off: str | None,
) -> list[str]:
    database = settings.masked()["DATABASE_URL"]
    lines = [
        f"justdriving {__version__} on {base} (APP_ENV={settings.app_env}, "
        f"QUEUE_BACKEND={settings.queue_backend}, DATABASE_URL={database})",
        f"  health:   {base}/healthz",
        f"  checkout: {urljoin(base + '/', checkout or '')}"
        f"  (demo invoice no. {demo.number}, {demo.outstanding})",
        f"  pay link: {base}{pay_path}  (as printed on the invoice and its e-mail)",
        f"  webhooks: {base}/webhook/payments/{settings.payment_provider}",
        f"  ops:      {base}/ops  (any user name; password: "
        + (f"{one_off}, made for this run)" if one_off else "your OPS_TOKEN)"),
    ]
    lines.append(f"  home:     {base}/  (links to the open invoices, the ops page and the docs)")
    if settings.queue_backend is QueueBackend.CELERY:
        lines.append("QUEUE_BACKEND=celery: `justdriving celery worker --beat` applies webhooks")
    return [*lines, "Ctrl-C stops the server and the worker."]


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, echo: Echo = click.echo
) -> None:
    """Serve the web app alone until Ctrl-C or SIGTERM; refuses an unmigrated database."""
    server = _listen(_migrated(build_container(settings)), host, port, serving=True)
    with _stop_on_signals(server, None):
        echo(f"justdriving serving on {server.url} (APP_ENV={settings.app_env}); Ctrl-C stops it")
        server.serve()
    echo("stopped")


def _local_url(host: str, port: int) -> str:
    """The URL a browser on this machine opens for `host`:`port` (any address: loopback)."""
    try:
        address = ipaddress.ip_address(host or "0.0.0.0")  # noqa: S104 # nosec B104
    except ValueError:  # a host name
        return f"http://{host}:{port}"
    if address.is_unspecified:  # every interface: this machine's loopback answers too
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"http://[{address}]:{port}" if address.version == 6 else f"http://{address}:{port}"


def _listen(container: Container, host: str, port: int, *, serving: bool = False) -> WebServer:
    """`serving`: the app as `justdriving serve` runs it (see flask_app.serving_app)."""
    app = serving_app(container) if serving else create_app(container)
    try:
        return WebServer(app, host, port)
    except OSError as error:
        raise ConfigurationError(
            f"cannot listen on {host}:{port}", [f"--host/--port: {error.strerror or error}"]
        ) from None


def _migrated(container: Container) -> Container:
    if container.config.database() == "sql" and pending(container.engine()):
        raise ConfigurationError(
            "the database is not migrated", ["DATABASE_URL: run `justdriving migrate` first"]
        )
    return container


@contextmanager
def _worker_thread(worker: Worker | None) -> Iterator[None]:
    """The worker in a background thread for the duration; stopped and joined after."""
    if worker is None:
        yield
        return
    thread = threading.Thread(target=_keep_working, args=(worker,), name="worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.stopping.set()
        thread.join(timeout=30)


def _keep_working(worker: Worker) -> None:
    """Worker.run, restarted after an unexpected error (a database that went away, say)."""
    while not worker.stopping.is_set():
        try:
            worker.run()
        except Exception:
            log.exception("the worker failed; restarting in %s s", WORKER_RESTART_DELAY)
            worker.stopping.wait(WORKER_RESTART_DELAY)


@contextmanager
def _stop_on_signals(server: WebServer, worker: Worker | None) -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the server (and the worker); the old handlers come back after.
    Only the main thread may set handlers: elsewhere (tests) the caller stops the server."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        if worker is not None:
            worker.stopping.set()
        server.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
