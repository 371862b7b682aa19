"""One TwilioSmsSender shared by relay threads: every send is its own message, a rate limit hits
only the call that received it, and every status callback finds its message by reference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import MessageStatus, SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber

pytest.importorskip("twilio")

from justdriving.adapters.sms.twilio import TwilioSmsSender
from justdriving.adapters.sms.twilio.webhooks import TwilioWebhooks
from justdriving.testing.twilio.simulator import TwilioSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SENDS = 40


def test_concurrent_sends_stay_apart_and_each_receipt_finds_its_message() -> None:
    with TwilioSimulator(clock=lambda: NOW) as twilio:
        sender = TwilioSmsSender(
            twilio.account_sid,
            twilio.auth_token,
            from_number=twilio.from_number,
            status_callback=twilio.public_base_url + "/webhooks/twilio/status",
            api_base=twilio.api_base,
        )
        twilio.fail_next(429, retry_after=9)

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
        assert len({r.provider_message_id for r in receipts}) == SENDS - 1 == len(twilio.messages)

        webhooks = TwilioWebhooks(twilio.auth_token, twilio.public_base_url)
        for n, outcome in enumerate(outcomes):
            if isinstance(outcome, SendReceipt):
                callback = twilio.deliver(outcome.provider_message_id)
                receipt = webhooks.parse_status(callback.path, callback.form, callback.headers, NOW)
                assert (receipt.reference, receipt.status) == (f"msg_{n}", MessageStatus.DELIVERED)
