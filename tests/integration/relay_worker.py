"""A relay worker process for the crash test: `python relay_worker.py URL PROVIDER INCARNATION`.

Builds the Application on the database at URL, with HTTP senders to PROVIDER (our message
reference as the idempotency key, the incarnation in a header) and a 1 s relay lease so that
rows a killed worker held come back quickly, and calls `app.relay_outbox()` until killed.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from integration_support import INCARNATION_HEADER, HttpEmailSender, HttpSmsSender

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.relay.engine import RelayPolicy

LEASE = timedelta(seconds=1)
BATCH = 10


def main(url: str, provider: str, incarnation: str) -> None:
    headers = {INCARNATION_HEADER: incarnation}
    app = Application(
        uow=SqlUnitOfWorkFactory(make_engine(url)),
        clock=SystemClock(),
        gateways=MemoryGatewayRegistry({}),
        sms=HttpSmsSender(provider, headers),
        email=HttpEmailSender(provider, headers),
        renderer=MemoryTemplateRenderer(),
        relay_policy=RelayPolicy(lease=LEASE, batch=BATCH),
    )
    while True:
        if not app.relay_outbox().claimed:
            time.sleep(0.02)


if __name__ == "__main__":
    main(*sys.argv[1:4])
