"""The email sender that only logs (MAIL_MAILER=log): one masked line per email, no content."""

from __future__ import annotations

import logging
import uuid

from justdriving.domain.messages import EmailMessage, SendReceipt

_log = logging.getLogger(__name__)


class LogEmailSender:
    """Logs one line per email: the masked address and our reference, never the content."""

    def __init__(self, name: str = "log", logger: logging.Logger | None = None) -> None:
        self.name = name
        self._logger = logger or _log

    def send(self, message: EmailMessage) -> SendReceipt:
        receipt = SendReceipt(self.name, f"log_email_{uuid.uuid4().hex}")
        self._logger.info(
            "email to %s, reference %s, %d attachment(s), logged as %s",
            message.to.masked(),
            message.reference,
            len(message.attachments),
            receipt.provider_message_id,
        )
        return receipt
