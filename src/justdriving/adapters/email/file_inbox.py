"""A local inbox, like Mailtrap: each email becomes an .eml file that any mail client opens.

For development: the message is exactly what SMTP would send (`mime.compose`), so a developer
sees the real headers, both parts and the invoice PDF. Each file appears whole or not at all
(written beside, then renamed); names sort by time: `20250314-093000-<reference>-<id>.eml`.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from email import policy
from pathlib import Path

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.email.mime import ListUnsubscribe, Mailbox, compose, message_id_of
from justdriving.domain.errors import InvalidInput, ProviderRejected, ProviderUnavailable
from justdriving.domain.messages import EmailMessage, SendReceipt
from justdriving.ports.clock import Clock

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class FileInboxEmailSender:
    """Writes every email to `folder` (created when the first one arrives)."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        name: str = "file",
        *,
        from_address: str = "justdriving@localhost",
        from_name: str | None = None,
        unsubscribe: ListUnsubscribe | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.folder = Path(folder)
        self._sender = Mailbox.configured(from_address, from_name, name)
        # Bulk mail always shows its List-Unsubscribe here, configured or not.
        self._unsubscribe = unsubscribe or ListUnsubscribe(
            mailto=f"unsubscribe@{self._sender.domain}"
        )
        self._clock = clock or SystemClock()

    def send(self, message: EmailMessage) -> SendReceipt:
        now = self._clock.now()
        try:
            mime = compose(message, self._sender, at=now, unsubscribe=self._unsubscribe)
        except InvalidInput as error:
            raise ProviderRejected(
                self.name, str(error), provider_code="invalid_message"
            ) from error
        reference = _UNSAFE_IN_NAME.sub("_", message.reference)[:60]
        filename = f"{now:%Y%m%d-%H%M%S}-{reference}-{uuid.uuid4().hex[:12]}.eml"
        try:
            self._write(filename, mime.as_bytes(policy=policy.SMTP))
        except OSError as error:
            raise ProviderUnavailable(
                self.name, f"cannot write to {self.folder}: {error}"
            ) from error
        return SendReceipt(self.name, message_id_of(mime))

    def paths(self) -> list[Path]:
        """The .eml files in the inbox, oldest first."""
        return sorted(self.folder.glob("*.eml")) if self.folder.is_dir() else []

    def _write(self, filename: str, content: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.folder / filename)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
