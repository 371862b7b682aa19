"""The baseline: what a user writes instead of an outbox relay, a Celery task per message on
Redis posting it to the provider with an httpx client kept for the process (keep-alive), as
GatewayAPI's JSON with the message's key as `userref`.

    celery -A benchmarks.relay_celery_app worker --pool threads --concurrency 4

BENCH_BROKER names the broker (Redis DB 6 by default), BENCH_ENDPOINT the provider's URL.
"""

from __future__ import annotations

import os

import httpx
from celery import Celery

BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/6")
QUEUE = "bench_relay"

app = Celery("bench_relay", broker=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)
_http = httpx.Client(
    timeout=httpx.Timeout(30.0, connect=5.0),
    limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
)


@app.task(name="bench.send_sms")
def send_sms(key: str, to: str, body: str) -> str:
    response = _http.post(
        os.environ["BENCH_ENDPOINT"] + "/rest/mtsms",
        json={"message": body, "sender": "Bench", "recipients": [{"msisdn": to}], "userref": key},
        headers={"Authorization": "Token bench"},
    )
    response.raise_for_status()
    return str(response.json()["ids"][0])
