"""The email senders MAIL_MAILER chooses, each imported only then (their webhook receivers:
`adapters/webhooks/factory.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.config import MailSettings
from justdriving.ports.messaging import EmailSender

if TYPE_CHECKING:
    from justdriving.adapters.email.mime import ListUnsubscribe


def _from(settings: MailSettings) -> str:
    return settings.mail_from_address or "justdriving@localhost"


def _unsubscribe(settings: MailSettings) -> ListUnsubscribe | None:
    from justdriving.adapters.email.mime import ListUnsubscribe

    url = settings.mail_unsubscribe_url
    return ListUnsubscribe(url=url) if url else None


def smtp_sender(settings: MailSettings) -> EmailSender:
    from justdriving.adapters.email.smtp import SmtpEmailSender

    return SmtpEmailSender(
        settings.mail_host or "localhost",
        settings.mail_port,
        username=settings.mail_username,
        password=settings.mail_password,
        encryption=settings.mail_encryption.value,
        from_address=_from(settings),
        from_name=settings.mail_from_name,
        unsubscribe=_unsubscribe(settings),
    )


def sendgrid_sender(settings: MailSettings) -> EmailSender:
    from justdriving.adapters.email.sendgrid import SendGridEmailSender

    return SendGridEmailSender(
        settings.mail_api_key or "",
        from_address=_from(settings),
        from_name=settings.mail_from_name,
        api_base=settings.mail_api_base_url,
        unsubscribe=_unsubscribe(settings),
    )


def mailgun_sender(settings: MailSettings) -> EmailSender:
    """Mailgun on MAIL_DOMAIN (default: the From address's domain), in its EU region unless
    MAIL_API_BASE_URL says otherwise."""
    from justdriving.adapters.email.mailgun import EU_API_BASE, MailgunEmailSender

    sender = _from(settings)
    return MailgunEmailSender(
        settings.mail_api_key or "",
        settings.mail_domain or sender.rpartition("@")[2],
        api_base=settings.mail_api_base_url or EU_API_BASE,
        from_address=sender,
        from_name=settings.mail_from_name,
        unsubscribe=_unsubscribe(settings),
    )


def file_inbox_sender(settings: MailSettings) -> EmailSender:
    from justdriving.adapters.email.file_inbox import FileInboxEmailSender

    return FileInboxEmailSender(
        settings.mail_inbox_dir,
        from_address=_from(settings),
        from_name=settings.mail_from_name,
        unsubscribe=_unsubscribe(settings),
    )
