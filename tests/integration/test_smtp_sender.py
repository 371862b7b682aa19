"""SmtpEmailSender against a real SMTP server (aiosmtpd) started by each test: plain, STARTTLS
and implicit TLS with a self-signed certificate made here, authentication, and what the server
answers when things go wrong."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiosmtpd")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from justdriving.adapters.email.mime import ListUnsubscribe
from justdriving.adapters.email.smtp.sender import SmtpEmailSender
from justdriving.domain.delivery import SuppressionReason
from justdriving.domain.errors import (
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.people import EmailAddress

SOFIE = EmailAddress("sofie@example.dk")
SCHOOL = "noreply@koreskolen.dk"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
USER, PASSWORD = "koreskolen", "s3cret-app-password"


class Inbox:
    """The server's side: keeps what arrives, answers RCPT and DATA as a test tells it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes, bool]] = []  # from, to, data, tls
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply: str | None = None
        self.data_delay = 0.0

    def message(self, index: int = -1) -> MimeMessage:
        parsed = email.message_from_bytes(self.received[index][2], policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        return parsed

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, tls))
        return "250 2.0.0 OK: queued"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    with socket.socket() as probe:  # aiosmtpd's controller cannot bind port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "justdriving test SMTP")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def plain_sender(port: int, **options: Any) -> SmtpEmailSender:
    settings: dict[str, Any] = {"encryption": "none", "from_address": SCHOOL, "timeout": 5.0}
    return SmtpEmailSender("127.0.0.1", port, **{**settings, **options})


def an_invoice_email(**changes: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": SOFIE,
        "subject": "Faktura 1042 fra Køreskolen Nord",
        "text": "Hej Sofie\n.\nDin faktura er vedhæftet.",
        "html": "<p>Hej Sofie</p><p>Din faktura er vedhæftet.</p>",
        "reference": "msg_invoice_1042",
        "attachments": (Attachment("faktura-1042.pdf", "application/pdf", PDF),),
    }
    return EmailMessage(**{**fields, **changes})


# What arrives ----------------------------------------------------------------------------


def test_the_invoice_email_arrives_with_text_before_html_and_the_pdf_attached() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        sender = plain_sender(port, from_name="Køreskolen Nord")
        receipt = sender.send(an_invoice_email())
    mail_from, rcpt_tos, _, _ = inbox.received[0]
    assert (mail_from, rcpt_tos) == (SCHOOL, [SOFIE.value])
    message = inbox.message()
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = alternative.get_body(("plain",))
    assert text is not None
    assert "Din faktura er vedhæftet." in text.get_content()
    lines = text.get_content().splitlines()
    assert lines[:2] == ["Hej Sofie", "."]  # a lone dot line survives dot-stuffing
    assert attachment.get_filename() == "faktura-1042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert message["Message-ID"] == f"<{receipt.provider_message_id}>"
    assert receipt.provider_message_id.endswith("@koreskolen.dk")
    assert receipt.provider == "smtp"
    assert message["X-Justdriving-Reference"] == "msg_invoice_1042"
    assert message["From"].addresses[0].display_name == "Køreskolen Nord"
    assert message["Subject"] == "Faktura 1042 fra Køreskolen Nord"
    assert message["Date"].datetime.tzinfo is not None
    assert "List-Unsubscribe" not in message


def test_an_announcement_carries_list_unsubscribe_with_one_click() -> None:
    inbox = Inbox()
    unsubscribe = ListUnsubscribe(
        url="https://koreskolen.dk/unsubscribe/{reference}", mailto="afmeld@koreskolen.dk"
    )
    with smtp_server(inbox) as port:
        plain_sender(port, unsubscribe=unsubscribe).send(
            an_invoice_email(attachments=(), html=None, bulk=True, reference="msg_7")
        )
    message = inbox.message()
    assert message.get_content_type() == "text/plain"
    assert message["List-Unsubscribe"] == (
        "<mailto:afmeld@koreskolen.dk?subject=unsubscribe%20msg_7>, "
        "<https://koreskolen.dk/unsubscribe/msg_7>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_bulk_mail_without_an_unsubscribe_target_is_a_configuration_error() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port, pytest.raises(ConfigurationError):
        plain_sender(port).send(an_invoice_email(bulk=True))
    assert inbox.received == []


# TLS and authentication ------------------------------------------------------------------


def test_starttls_with_login(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    options = {
        "tls_context": server_tls,
        "require_starttls": True,
        "authenticator": _authenticate,
        "auth_require_tls": True,
    }
    with smtp_server(inbox, **options) as port:
        sender = SmtpEmailSender(
            "127.0.0.1",
            port,
            username=USER,
            password=PASSWORD,
            encryption="starttls",
            from_address=SCHOOL,
            ssl_context=client_tls,
            timeout=5,
        )
        receipt = sender.send(an_invoice_email())
    assert inbox.received[0][3] is True  # the message went over TLS
    assert inbox.message()["Message-ID"] == f"<{receipt.provider_message_id}>"


def test_implicit_tls(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_tls) as port:
        sender = plain_sender(port, encryption="ssl", ssl_context=client_tls)
        sender.send(an_invoice_email())
    assert inbox.received[0][3] is True


def test_an_untrusted_certificate_is_a_configuration_error(server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls, require_starttls=True) as port:
        sender = plain_sender(port, encryption="starttls")  # the system's trust store
        with pytest.raises(ConfigurationError, match="MAIL_ENCRYPTION"):
            sender.send(an_invoice_email())
    assert inbox.received == []


def test_starttls_not_offered_is_a_configuration_error() -> None:
    with smtp_server(Inbox()) as port, pytest.raises(ConfigurationError):
        plain_sender(port, encryption="starttls").send(an_invoice_email())


def test_a_wrong_password_is_a_configuration_error(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    options = {"tls_context": server_tls, "authenticator": _authenticate}
    with smtp_server(Inbox(), **options) as port:
        sender = SmtpEmailSender(
            "127.0.0.1",
            port,
            username=USER,
            password="wrong",
            from_address=SCHOOL,
            ssl_context=client_tls,
            timeout=5,
        )
        with pytest.raises(ConfigurationError, match="MAIL_USERNAME"):
            sender.send(an_invoice_email())


def test_a_password_is_never_sent_unencrypted_to_another_host() -> None:
    with pytest.raises(ConfigurationError, match="unencrypted"):
        SmtpEmailSender(
            "smtp.example.dk",
            25,
            username=USER,
            password=PASSWORD,
            encryption="none",
            from_address=SCHOOL,
        )


# Refusals and failures -------------------------------------------------------------------


def test_an_unknown_mailbox_is_a_hard_bounce_that_suppresses_the_recipient() -> None:
    inbox = Inbox()
    inbox.rcpt_replies[SOFIE.value] = "550 5.1.1 <sofie@example.dk>: User unknown"
    with smtp_server(inbox) as port, pytest.raises(RecipientSuppressed) as raised:
        plain_sender(port).send(an_invoice_email())
    assert raised.value.provider_code == SuppressionReason.HARD_BOUNCE.value
    assert not raised.value.retryable
    assert SOFIE.value not in str(raised.value)  # the address is masked in what gets logged


def test_a_full_mailbox_is_rejected_without_suppressing() -> None:
    inbox = Inbox()
    inbox.rcpt_replies[SOFIE.value] = "552 5.2.2 Mailbox full"
    with smtp_server(inbox) as port, pytest.raises(ProviderRejected) as raised:
        plain_sender(port).send(an_invoice_email())
    assert not isinstance(raised.value, RecipientSuppressed)


def test_greylisting_is_worth_a_retry() -> None:
    inbox = Inbox()
    inbox.rcpt_replies[SOFIE.value] = "450 4.2.0 Greylisted, try again later"
    with smtp_server(inbox) as port, pytest.raises(ProviderUnavailable) as raised:
        plain_sender(port).send(an_invoice_email())
    assert raised.value.provider_code == "450"
    assert not raised.value.possibly_done


def test_content_refused_after_data_is_rejected() -> None:
    inbox = Inbox()
    inbox.data_reply = "554 5.7.1 Message rejected as spam"
    with smtp_server(inbox) as port, pytest.raises(ProviderRejected):
        plain_sender(port).send(an_invoice_email())


def test_no_server_listening_is_unavailable_and_certainly_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with pytest.raises(ProviderUnavailable) as raised:
        plain_sender(port).send(an_invoice_email())
    assert not raised.value.possibly_done


def test_no_answer_after_the_message_was_handed_over_may_have_sent_it() -> None:
    inbox = Inbox()
    inbox.data_delay = 2.0
    with smtp_server(inbox) as port, pytest.raises(ProviderUnavailable) as raised:
        plain_sender(port, timeout=0.5).send(an_invoice_email())
    assert raised.value.possibly_done


def test_an_address_that_would_inject_a_header_is_refused_before_connecting() -> None:
    # The domain's EmailAddress lets angle brackets through; the adapter does not.
    sneaky = EmailAddress("sofie@example.dk>,x")
    with pytest.raises(ProviderRejected, match="address"):
        plain_sender(1).send(an_invoice_email(to=sneaky))
