"""One GatewayApiSmsSender shared by relay threads: every send is its own message, a rate limit
hits only the call that received it, and every delivery status finds its message by userref."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import MessageStatus, SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber

pytest.importorskip("httpx")

from justdriving.adapters.sms.gatewayapi import GatewayApiSmsSender
from justdriving.adapters.sms.gatewayapi.webhooks import GatewayApiWebhooks
from justdriving.testing.gatewayapi.simulator import GatewayApiSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SENDS = 40


def test_concurrent_sends_stay_apart_and_each_status_finds_its_message() -> None:
    with GatewayApiSimulator(clock=lambda: NOW) as gatewayapi:
        sender = GatewayApiSmsSender(
            gatewayapi.token,
            sender="Koreskolen",
            api_base=gatewayapi.api_base,
            callback_url=gatewayapi.callback_url,
        )
        gatewayapi.fail_next(429, retry_after=9)

        def send(n: int) -> SendReceipt | ProviderUnavailable:
            try:
                return sender.send(
                    PhoneNumber(f"+45201234{n:02d}"), SmsMessage(f"Hej {n}", f"msg_{n}")
                )
            except ProviderUnavailable as error:
                return error

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(send, range(SENDS)))
        sender.close()

        refused = [o for o in outcomes if isinstance(o, ProviderUnavailable)]
        receipts = [o for o in outcomes if isinstance(o, SendReceipt)]
        assert [(e.retry_after, e.possibly_done) for e in refused] == [(9.0, False)]
        assert (
            len({r.provider_message_id for r in receipts}) == SENDS - 1 == len(gatewayapi.messages)
        )

        webhooks = GatewayApiWebhooks(gatewayapi.webhook_secret)
        for n, outcome in enumerate(outcomes):
            if isinstance(outcome, SendReceipt):
                delivery = gatewayapi.deliver(int(outcome.provider_message_id))
                status = webhooks.parse_status(delivery.body, delivery.headers, NOW)
                assert (status.reference, status.status) == (f"msg_{n}", MessageStatus.DELIVERED)
