"""Two SMS providers, one message: the second takes what the first cannot.

A message goes to the primary. It goes to the secondary instead, under the same reference,
only when the primary certainly did not take it:
- the primary is unavailable (a refused connection, a 5xx, a 429) and says the message was
  not sent (`possibly_done` false): a timeout may have delivered it, so it is left to the
  relay's retry through the primary — never both providers for one message;
- the primary refuses the destination as one it cannot route (`ROUTING_CODES`: Twilio's
  21408, region not enabled, and 21612, number not reachable by SMS);
- the primary failed so within the last `cooldown` (its own breaker: the secondary is used
  without asking the primary first, then the primary is tried again).
Any other refusal (an invalid number, an opted-out recipient) is the message's, not the
provider's, and is raised as it is. The receipt names the provider that sent, so delivery
reports come back through that provider's webhook.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Final

from justdriving.domain.errors import ProviderRejected, ProviderUnavailable
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.ports.clock import Clock
from justdriving.ports.messaging import SmsSender

log = logging.getLogger("justdriving.sms")

ROUTING_CODES: Final = frozenset({"21408", "21612"})
COOLDOWN: Final = timedelta(seconds=60)


class FailoverSmsSender:
    def __init__(
        self,
        primary: SmsSender,
        secondary: SmsSender,
        clock: Clock,
        *,
        cooldown: timedelta = COOLDOWN,
    ) -> None:
        self._primary, self._secondary, self._clock = primary, secondary, clock
        self._cooldown = cooldown
        self._primary_down_until: datetime | None = None
        self._lock = threading.Lock()  # the relay sends from many threads
        self.name = f"{primary.name}+{secondary.name}"

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        if self._primary_resting():
            return self._secondary.send(to, message)
        try:
            return self._primary.send(to, message)
        except ProviderUnavailable as error:
            if error.possibly_done:
                raise  # it may have gone out: the relay retries the primary, never both
            self._rest_primary()
            self._fail_over(message, error)
        except ProviderRejected as error:
            if error.provider_code not in ROUTING_CODES:
                raise
            self._fail_over(message, error)
        return self._secondary.send(to, message)

    def _primary_resting(self) -> bool:
        with self._lock:
            until = self._primary_down_until
            return until is not None and self._clock.now() < until

    def _rest_primary(self) -> None:
        with self._lock:
            self._primary_down_until = self._clock.now() + self._cooldown

    def _fail_over(self, message: SmsMessage, error: Exception) -> None:
        log.warning(
            "sms %s: %s could not take it (%s); sending through %s",
            message.reference,
            self._primary.name,
            type(error).__name__,
            self._secondary.name,
        )
