"""The sales units (merchants) of the Vipps MobilePay simulator, and what every side of it
(ePayment, Recurring, Webhooks) shares: the units, the clock, the lock, webhook delivery and
idempotent replay. MobilePaySimulator (simulator.py) provides them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from attrs import define, field

from justdriving.testing.mobilepay.wire import SimulatorError
from justdriving.testing.wire import ApiReply, Delivery

if TYPE_CHECKING:
    from justdriving.testing.mobilepay.payments import Payment
    from justdriving.testing.mobilepay.recurring import Agreement, Charge

T = TypeVar("T")


@define
class Webhook:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str = field(repr=False)


@define
class Merchant:
    """A sales unit: its API keys, and its own payments, agreements, charges and webhooks."""

    msn: str
    client_id: str
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)
    payments: dict[str, Payment] = field(factory=dict)
    replays: dict[tuple[str, str], ApiReply] = field(factory=dict)
    webhooks: dict[str, Webhook] = field(factory=dict)
    agreements: dict[str, Agreement] = field(factory=dict)
    charges: dict[str, Charge] = field(factory=dict)


class Shared:
    """The state and the mechanics each side of the simulator uses."""

    merchants: dict[str, Merchant]
    default_msn: str
    clock: Callable[[], datetime]
    _lock: threading.RLock

    if TYPE_CHECKING:  # MobilePaySimulator's own

        @property
        def base_url(self) -> str: ...

        def _deliver(
            self, merchant: Merchant, event_type: str, body: bytes, *, force: bool = False
        ) -> Delivery: ...

        def _idempotent(
            self,
            merchant: Merchant,
            path: str,
            headers: Mapping[str, str],
            work: Callable[[], ApiReply],
            pattern: re.Pattern[str] = ...,
        ) -> ApiReply: ...

    def _kept(
        self, items: Callable[[Merchant], Mapping[str, T]], key: str, msn: str | None, what: str
    ) -> T:
        """One of a sales unit's (the default one's) payments, agreements or charges."""
        with self._lock:
            found = items(self.merchants[msn or self.default_msn]).get(key)
            if found is None:
                raise SimulatorError(f"no {what} {key}")
            return found

    def _now_text(self) -> str:
        return self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z")
