"""The SMS sender that only logs (SMS_PROVIDER=log): one masked line per message, no body."""

from __future__ import annotations

import logging
import uuid

from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber

_log = logging.getLogger(__name__)


class LogSmsSender:
    """Logs one line per SMS: the masked number and our reference, never the body."""

    def __init__(self, name: str = "log", logger: logging.Logger | None = None) -> None:
        self.name = name
        self._logger = logger or _log

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        receipt = SendReceipt(self.name, f"log_sms_{uuid.uuid4().hex}")
        self._logger.info(
            "sms to %s, reference %s, %d characters, logged as %s",
            to.masked(),
            message.reference,
            len(message.body),
            receipt.provider_message_id,
        )
        return receipt
