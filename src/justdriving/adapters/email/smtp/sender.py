"""SMTP behind the EmailSender port, with smtplib: STARTTLS, implicit TLS ("ssl") or plain.

One connection per message, closed after it. The message is the MIME built by `mime.compose`;
the receipt's id is its Message-ID (without angle brackets).

What goes wrong, translated:
- no connection, a timeout or a dropped connection, any 4xx: ProviderUnavailable (retry). Once
  the message and its final "." are on the wire, a lost reply is `possibly_done`: the server
  may have queued it.
- 535 and friends, STARTTLS not offered, an untrusted certificate, a 5xx to MAIL FROM:
  ConfigurationError, naming the setting.
- a 5xx to RCPT that says the mailbox or domain does not exist (enhanced status 5.1.x, or a
  plain 550 "user unknown"): RecipientSuppressed, a hard bounce at SMTP time.
- any other 5xx: ProviderRejected.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email import policy

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.email.mime import (
    ListUnsubscribe,
    Mailbox,
    check_address,
    compose,
    message_id_of,
)
from justdriving.domain.delivery import SuppressionReason
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidInput,
    JustDrivingError,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import EmailMessage, SendReceipt
from justdriving.ports.clock import Clock

ENCRYPTIONS = ("starttls", "ssl", "none")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_NO_SUCH_MAILBOX = re.compile(r"^5\.1\.(1|2|3|6|10)\b")
_UNKNOWN_USER = re.compile(r"unknown|no such|does not exist|not found", re.IGNORECASE)
_LINE_START_DOT = re.compile(rb"^\.", re.MULTILINE)


class SmtpEmailSender:
    """Sends each email over its own SMTP connection."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        encryption: str = "starttls",
        from_address: str,
        from_name: str | None = None,
        timeout: float = 30.0,
        name: str = "smtp",
        unsubscribe: ListUnsubscribe | None = None,
        message_id_domain: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        _check_settings(host, username, password, str(encryption), name)
        self.name = name
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password = username, password
        self._encryption = str(encryption)
        self._sender = Mailbox.configured(from_address, from_name, name)
        self._unsubscribe, self._domain = unsubscribe, message_id_domain
        self._context = ssl_context or ssl.create_default_context()
        self._local_hostname = local_hostname
        self._clock = clock or SystemClock()

    def send(self, message: EmailMessage) -> SendReceipt:
        try:
            mime = compose(
                message,
                self._sender,
                at=self._clock.now(),
                unsubscribe=self._unsubscribe,
                message_id_domain=self._domain,
            )
            recipient = check_address(message.to.value).addr_spec
        except InvalidInput as error:
            raise ProviderRejected(
                self.name, str(error), provider_code="invalid_message"
            ) from error
        self._deliver(recipient, mime.as_bytes(policy=policy.SMTP), message.to.masked())
        return SendReceipt(self.name, message_id_of(mime))

    # One conversation.

    def _deliver(self, recipient: str, payload: bytes, masked: str) -> None:
        handed_over = False
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            self._greet(smtp)
            self._envelope(smtp, recipient, masked)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise self._refused(code, reply, "DATA")
            smtp.send(_dot_stuffed(payload))
            handed_over = True
            code, reply = smtp.getreply()
            if code != 250:
                raise self._refused(code, reply, "the message")
        except JustDrivingError:
            raise
        except (smtplib.SMTPException, OSError) as error:
            raise self._translate(error, handed_over) from error
        finally:
            if smtp is not None:
                _close(smtp)

    def _connect(self) -> smtplib.SMTP:
        if self._encryption == "ssl":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                local_hostname=self._local_hostname,
                timeout=self._timeout,
                context=self._context,
            )
        return smtplib.SMTP(
            self._host, self._port, local_hostname=self._local_hostname, timeout=self._timeout
        )

    def _greet(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self._encryption == "starttls":
            smtp.starttls(context=self._context)
            smtp.ehlo()
        if self._username:
            smtp.login(self._username, self._password or "")

    def _envelope(self, smtp: smtplib.SMTP, recipient: str, masked: str) -> None:
        code, reply = smtp.mail(self._sender.address)
        if code != 250:
            if code >= 500:
                raise ConfigurationError(
                    f"{self.name} refused the sender",
                    [f"MAIL_FROM_ADDRESS ({code} {_text(reply)})"],
                )
            raise self._refused(code, reply, "MAIL FROM")
        code, reply = smtp.rcpt(recipient)
        if code in (250, 251):
            return
        text = _text(reply).replace(recipient, masked)
        if code >= 500 and (
            _NO_SUCH_MAILBOX.match(text) or (code == 550 and _UNKNOWN_USER.search(text))
        ):
            raise RecipientSuppressed(
                self.name,
                f"{masked} does not exist ({code} {text})",
                provider_code=SuppressionReason.HARD_BOUNCE.value,
            )
        raise self._refused(code, text.encode(), f"the recipient {masked}")

    # Errors.

    def _refused(self, code: int, reply: bytes, what: str) -> JustDrivingError:
        message = f"the server refused {what}: {code} {_text(reply)}"
        if 400 <= code < 500:
            return ProviderUnavailable(self.name, message, provider_code=str(code))
        return ProviderRejected(self.name, message, provider_code=str(code))

    def _translate(self, error: Exception, handed_over: bool) -> JustDrivingError:
        detail = f"{type(error).__name__}: {error}"
        if isinstance(error, smtplib.SMTPAuthenticationError):
            return ConfigurationError(
                f"{self.name} refused the credentials",
                [f"MAIL_USERNAME / MAIL_PASSWORD ({detail})"],
            )
        # STARTTLS or AUTH not offered, no usable AUTH mechanism, a certificate not trusted.
        refused_setup = isinstance(error, smtplib.SMTPException) and not isinstance(
            error, smtplib.SMTPResponseException | smtplib.SMTPServerDisconnected
        )
        if refused_setup or isinstance(error, ssl.SSLCertVerificationError):
            return ConfigurationError(
                f"{self.name} cannot talk to {self._host} as configured",
                [f"MAIL_ENCRYPTION / MAIL_HOST ({detail})"],
            )
        if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
            return ProviderRejected(self.name, detail, provider_code=str(error.smtp_code))
        # A connection refused or lost, a timeout, a 4xx greeting: try again later.
        return ProviderUnavailable(self.name, detail, possibly_done=handed_over)


def _check_settings(
    host: str, username: str | None, password: str | None, encryption: str, name: str
) -> None:
    problems = []
    if not host:
        problems.append("MAIL_HOST is empty")
    if encryption not in ENCRYPTIONS:
        problems.append(f"MAIL_ENCRYPTION is {encryption!r}, not one of {', '.join(ENCRYPTIONS)}")
    if username and not password:
        problems.append("MAIL_USERNAME is set without MAIL_PASSWORD")
    if username and encryption == "none" and host not in _LOOPBACK:
        problems.append("MAIL_USERNAME over an unencrypted connection would expose the password")
    if problems:
        raise ConfigurationError(f"{name} is not configured", problems)


def _dot_stuffed(payload: bytes) -> bytes:
    """The DATA section: a line starting with "." gets another, then the closing ".\\r\\n"."""
    body = _LINE_START_DOT.sub(b"..", payload)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _text(reply: bytes) -> str:
    return reply.decode("utf-8", "replace").replace("\r", " ").replace("\n", " ").strip()


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; once the message is accepted, nothing here can undo it."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
