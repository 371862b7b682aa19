"""One relay process of the Celery comparison: the thread worker's relay loop
(`justdriving worker --relay-only`'s) over `--database`, sending SMS with the GatewayAPI
adapter (one httpx client, keep-alive) to `--endpoint`, RELAY_IN_FLIGHT `--in-flight`, until
SIGTERM.

    python -m benchmarks.relay_process --database URL --endpoint URL --in-flight 4
"""

from __future__ import annotations

import argparse

import httpx

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FakeEmailSender, MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sms.gatewayapi import GatewayApiSmsSender
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.entrypoints.schedule import DISPATCH, PeriodicJob, relay_outbox
from justdriving.entrypoints.worker import RELAY_IDLE_SLEEP, Worker
from justdriving.relay.engine import RelayPolicy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_process")
    parser.add_argument("--database", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--idle-sleep", type=float, default=None, help="s between empty looks")
    options = parser.parse_args(argv)
    connections = max(options.in_flight, 1)
    http = httpx.Client(
        timeout=httpx.Timeout(30.0, connect=5.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )
    app = Application(
        uow=SqlUnitOfWorkFactory(make_engine(options.database)),
        clock=SystemClock(),
        gateways=MemoryGatewayRegistry({}),
        sms=GatewayApiSmsSender("bench", sender="Bench", api_base=options.endpoint, http=http),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        relay_policy=RelayPolicy(in_flight=options.in_flight),
        # Every message here is an announcement to a few students: no throttle, this
        # measures the relay.
        delivery=DeliveryPolicy(per_recipient_per_hour=10**9),
    )
    worker = Worker(
        app,
        jobs=[PeriodicJob(DISPATCH, 0.0, relay_outbox)],
        relay_idle_sleep=options.idle_sleep or RELAY_IDLE_SLEEP,
    )
    worker.stop_on_signals()
    print("ready", flush=True)
    worker.run()


if __name__ == "__main__":
    main()
