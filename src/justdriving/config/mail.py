"""Email: the mailer, SMTP or API credentials, the sender, and staging's redirect."""

import enum

from attrs import field, frozen

from justdriving.config.fields import between, fake, missing, not_https, secret, str_tuple


class Mailer(enum.StrEnum):
    LOG = "log"
    FAKE = "fake"
    SMTP = "smtp"
    SENDGRID = "sendgrid"
    MAILGUN = "mailgun"
    FILE = "file"  # a local inbox of .eml files (MAIL_INBOX_DIR), for development


class MailEncryption(enum.StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


@frozen(kw_only=True, slots=False)
class MailSettings:
    """MAIL_MAILER and every MAIL_* variable."""

    mail_mailer: Mailer = Mailer.LOG
    mail_host: str | None = None
    mail_port: int = field(default=587, validator=between(1, 65535))
    mail_username: str | None = None
    mail_password: str | None = secret()
    mail_encryption: MailEncryption = MailEncryption.STARTTLS
    mail_api_key: str | None = secret()
    mail_webhook_secret: str | None = secret()
    mail_from_address: str | None = None
    mail_from_name: str | None = None
    mail_redirect_to: str | None = None
    mail_allowlist: tuple[str, ...] = field(default=(), converter=str_tuple)
    # Added by justdriving (see the README): the provider's API root (Mailgun's EU or US
    # region, a simulator in tests), the Mailgun sending domain (default: the From address's
    # domain), the one-click unsubscribe URL for announcements, and the file inbox's folder.
    mail_api_base_url: str | None = None
    mail_domain: str | None = None
    mail_unsubscribe_url: str | None = None
    mail_inbox_dir: str = "mail-inbox"
    # Added by justdriving: folders laid out like the package's messages/ (<language>/<name>.
    # {subject,sms,txt,html}.j2), comma separated, searched before the package's own: to
    # reword a message, add a language, or add the host's own templates (`send_template`).
    message_template_path: tuple[str, ...] = field(default=(), converter=str_tuple)

    def mail_in_production(self) -> list[str]:
        """A real mailer with its sender and secrets, encrypted SMTP when it logs in, https
        only, no staging redirect."""
        mailer = self.mail_mailer
        problems: list[str] = []
        if mailer in (Mailer.LOG, Mailer.FAKE, Mailer.FILE):
            problems.append(fake("MAIL_MAILER", mailer, "smtp, sendgrid or mailgun"))
        else:
            problems += missing(MAIL_FROM_ADDRESS=self.mail_from_address)
        if mailer is Mailer.SMTP:
            problems += missing(MAIL_HOST=self.mail_host)
            if self.mail_password and self.mail_encryption is MailEncryption.NONE:
                problems.append(
                    "MAIL_ENCRYPTION is none while MAIL_PASSWORD is set: the password would "
                    "cross the network in clear; choose starttls or ssl"
                )
        elif mailer in (Mailer.SENDGRID, Mailer.MAILGUN):
            problems += missing(
                MAIL_API_KEY=self.mail_api_key, MAIL_WEBHOOK_SECRET=self.mail_webhook_secret
            )
        problems += not_https(
            MAIL_API_BASE_URL=self.mail_api_base_url,
            MAIL_UNSUBSCRIBE_URL=self.mail_unsubscribe_url,
        )
        problems = [f"{p} (MAIL_MAILER={mailer})" for p in problems]
        if self.mail_redirect_to:
            problems.append("MAIL_REDIRECT_TO is set: a staging redirect must not reach production")
        return problems

    def mail_in_staging(self) -> list[str]:
        if self.mail_redirect_to or self.mail_allowlist:
            return []
        return [
            "MAIL_REDIRECT_TO or MAIL_ALLOWLIST must be set in staging "
            "so that no real customer receives an email"
        ]
