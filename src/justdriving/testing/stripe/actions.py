"""The payer's side of the Stripe simulator as a test drives it (a card succeeds, fails or asks
for 3-D Secure, a refund settles, a dispute opens, a card is saved), each action returning the
signed webhook delivery of the event Stripe sends; mixed into StripeSimulator."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.stripe.account import StripeAccount
from justdriving.testing.stripe.objects import StripeObject
from justdriving.testing.stripe.payer import PayerSide
from justdriving.testing.stripe.wallet import StripeWallet
from justdriving.testing.wire import Delivery


class PayerActions:
    """Each returns the signed delivery of the event Stripe sends, for StripeSimulator."""

    account: StripeAccount
    payer: PayerSide
    wallet: StripeWallet
    webhook_secret: str
    _lock: threading.RLock

    if TYPE_CHECKING:  # StripeSimulator's own

        def now(self) -> datetime: ...

    def succeed(self, ref: str, amount: int | None = None) -> Delivery:
        return self._act(lambda: self.payer.succeed(ref, amount))

    def authorize(self, ref: str, amount: int | None = None) -> Delivery:
        return self._act(lambda: self.payer.authorize(ref, amount))

    def require_action(self, ref: str) -> Delivery:
        return self._act(lambda: self.payer.require_action(ref))

    def fail(
        self, ref: str, code: str = "card_declined", decline_code: str | None = None
    ) -> Delivery:
        return self._act(lambda: self.payer.fail(ref, code, decline_code))

    def process(self, ref: str) -> Delivery:
        return self._act(lambda: self.payer.process(ref))

    def settle(self, ref: str, succeeded: bool = True) -> Delivery:
        return self._act(lambda: self.payer.settle(ref, succeeded))

    def complete_refund(self, provider_refund_id: str, succeeded: bool = True) -> Delivery:
        return self._act(lambda: self.payer.complete_refund(provider_refund_id, succeeded))

    def dispute(
        self, ref: str, *, status: str = "needs_response", reason: str = "fraudulent"
    ) -> Delivery:
        return self._act(lambda: self.payer.dispute(ref, status=status, reason=reason))

    def update_dispute(self, dispute_id: str, status: str = "under_review") -> Delivery:
        return self._act(lambda: self.payer.update_dispute(dispute_id, status))

    def close_dispute(self, dispute_id: str, won: bool = False) -> Delivery:
        return self._act(lambda: self.payer.close_dispute(dispute_id, won))

    def complete_setup(self, seti_id: str, card: str = "pm_card_visa") -> Delivery:
        """The student saves test payment method `card` (3-D Secure pending where it asks)."""
        return self._act(lambda: self.wallet.complete_setup(seti_id, card))

    def authenticate_setup(self, seti_id: str) -> Delivery:
        return self._act(lambda: self.wallet.authenticate_setup(seti_id))

    def fail_setup(self, seti_id: str, decline_code: str = "generic_decline") -> Delivery:
        return self._act(lambda: self.wallet.fail_setup(seti_id, decline_code))

    def decline_next_charge(self, pm_id: str, decline_code: str) -> None:
        with self._lock:
            self.wallet.decline_next_charge(pm_id, decline_code)

    def expire_checkout(self, session_id: str) -> Delivery:
        return self._act(lambda: self.payer.expire(session_id))

    def webhook(self, event_type: str, obj: StripeObject) -> Delivery:
        """Any event about any object, recorded and signed now."""
        return self._act(lambda: self.account.emit(event_type, obj))

    def deliver(self, event: StripeObject) -> Delivery:
        """An event the account recorded, as Stripe delivers it now (pretty JSON, signed)."""
        body = json.dumps(event, indent=2).encode()
        record_webhook("stripe", str(event["type"]), body)
        headers = self.sign(body, self.now())
        headers["Content-Type"] = "application/json; charset=utf-8"
        return body, headers

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        """A Stripe-Signature for `body` sent at `at`; test mode adds a v0 no one can check."""
        timestamp = int(at.timestamp())
        signed = f"{timestamp}.".encode() + body
        v1 = hmac.new((secret or self.webhook_secret).encode(), signed, hashlib.sha256)
        v0 = hmac.new(b"legacy-test-mode-scheme", signed, hashlib.sha256)
        return {"Stripe-Signature": f"t={timestamp},v1={v1.hexdigest()},v0={v0.hexdigest()}"}

    def _act(self, action: Callable[[], StripeObject]) -> Delivery:
        with self._lock:
            self.account.request = {"id": None, "idempotency_key": None}
            return self.deliver(action())
