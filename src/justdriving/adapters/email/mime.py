"""Email as MIME: text before HTML, attachments, Message-ID, our reference, List-Unsubscribe.

The SMTP sender and the file inbox send what `compose` builds; the API senders (SendGrid,
Mailgun) use its checks and header values. Every value that reaches a header passes through
here: an address must be one bare addr-spec, and no value may hold a control character, so no
header can be injected (the domain already keeps line breaks out of subjects).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from attrs import frozen

from justdriving.domain.errors import ConfigurationError, InvalidEmailAddress, InvalidInput
from justdriving.domain.messages import EmailMessage

REFERENCE_HEADER = "X-Justdriving-Reference"
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_NOT_IN_ADDRESS = re.compile(r"[\s<>,;:\"()\[\]\\]")
_NOT_IN_URL = re.compile(r"[\s<>\"\\,]")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


def check_address(value: str) -> Address:
    """`value` as a header Address, or InvalidEmailAddress: one plain addr-spec, nothing more.
    A non-ASCII domain is IDNA-encoded; a non-ASCII local part would need SMTPUTF8: refused."""
    if _CONTROL.search(value) or _NOT_IN_ADDRESS.search(value):
        raise InvalidEmailAddress("an email address may not hold spaces, brackets or separators")
    local, _, domain = value.rpartition("@")
    if not (local and domain):
        raise InvalidEmailAddress("not an email address")
    if not local.isascii():
        raise InvalidEmailAddress("an address with a non-ASCII local part is not supported")
    try:
        plain = f"{local}@{domain.encode('idna').decode('ascii')}"
        address = Address(addr_spec=plain)
    except (ValueError, IndexError, UnicodeError, HeaderParseError) as error:
        raise InvalidEmailAddress("not an email address") from error
    if address.addr_spec != plain or not address.username or not address.domain:
        raise InvalidEmailAddress("not an email address")
    return address


def one_line(value: str, what: str) -> str:
    """`value` unchanged, or InvalidInput when it holds a control character or line break."""
    if _CONTROL.search(value):
        raise InvalidInput(f"the {what} may not hold a line break or control character")
    return value


@frozen
class Mailbox:
    """Who sends: an address and, optionally, a display name (`Køreskolen Nord`)."""

    address: str
    name: str | None = None

    @classmethod
    def configured(cls, address: str, name: str | None, provider: str) -> Mailbox:
        """The sender from configuration; ConfigurationError names the setting at fault."""
        try:
            plain = check_address(address).addr_spec
            one_line(name or "", "sender name")
        except InvalidInput as error:
            raise ConfigurationError(
                f"{provider} has no valid sender", [f"MAIL_FROM_ADDRESS / MAIL_FROM_NAME: {error}"]
            ) from error
        return cls(plain, name or None)

    def for_message(self, message: EmailMessage) -> Mailbox:
        """This sender, under the message's own display name (the school's) when it has one:
        the address, whose domain is the authenticated one, stays."""
        if message.from_name is None:
            return self
        return Mailbox(self.address, one_line(message.from_name, "sender name"))

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def header(self) -> Address:
        return Address(display_name=self.name or "", addr_spec=self.address)

    def __str__(self) -> str:
        return str(self.header())


@frozen
class ListUnsubscribe:
    """Where a recipient of bulk mail unsubscribes: an https URL (one-click POST, RFC 8058)
    and/or a mailto address. `{reference}` in the URL becomes our message id."""

    url: str | None = None
    mailto: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = []
        if not (self.url or self.mailto):
            problems.append("an https URL or a mailto address is needed")
        if self.url and (not self.url.startswith("https://") or _unsafe_url(self.url)):
            problems.append("the URL must be https:// without spaces, commas or brackets")
        if self.mailto:
            try:
                check_address(self.mailto)
            except InvalidInput as error:
                problems.append(f"mailto: {error}")
        if problems:
            raise ConfigurationError("List-Unsubscribe is not usable", problems)

    def headers(self, reference: str) -> dict[str, str]:
        token = quote(reference, safe="")
        targets = []
        if self.mailto:
            targets.append(f"<mailto:{self.mailto}?subject=unsubscribe%20{token}>")
        if self.url:
            targets.append(f"<{self.url.replace('{reference}', token)}>")
        headers = {"List-Unsubscribe": ", ".join(targets)}
        if self.url:  # one-click needs an https URL to POST to
            headers["List-Unsubscribe-Post"] = ONE_CLICK
        return headers


def _unsafe_url(url: str) -> bool:
    return bool(_CONTROL.search(url) or _NOT_IN_URL.search(url))


def extra_headers(message: EmailMessage, unsubscribe: ListUnsubscribe | None) -> dict[str, str]:
    """Our reference and, for bulk mail, List-Unsubscribe: what every sender adds."""
    headers = {REFERENCE_HEADER: one_line(message.reference, "reference")}
    if message.bulk:
        if unsubscribe is None:
            raise ConfigurationError(
                "bulk email needs a List-Unsubscribe target", ["MAIL_UNSUBSCRIBE_URL or _MAILTO"]
            )
        headers.update(unsubscribe.headers(message.reference))
    return headers


def check_message(message: EmailMessage) -> None:
    """Every header value of `message` is safe; InvalidInput otherwise."""
    check_address(message.to.value)
    if message.reply_to is not None:
        check_address(message.reply_to.value)
    one_line(message.subject, "subject")
    one_line(message.reference, "reference")
    for attachment in message.attachments:
        one_line(attachment.filename, "attachment's filename")
        if not _CONTENT_TYPE.match(attachment.content_type):
            raise InvalidInput(f"{attachment.content_type!r} is not a content type")


def compose(
    message: EmailMessage,
    sender: Mailbox,
    *,
    at: datetime,
    unsubscribe: ListUnsubscribe | None = None,
    message_id_domain: str | None = None,
) -> MimeMessage:
    """The whole message: multipart/alternative (text, then HTML) inside multipart/mixed when
    there are attachments. Raises InvalidInput for an unsafe value, ConfigurationError for bulk
    mail without a List-Unsubscribe target."""
    check_message(message)
    mime = MimeMessage()
    mime["From"] = sender.for_message(message).header()
    mime["To"] = check_address(message.to.value)
    if message.reply_to is not None:
        mime["Reply-To"] = check_address(message.reply_to.value)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(at)
    mime["Message-ID"] = make_msgid(domain=message_id_domain or sender.domain)
    for name, value in extra_headers(message, unsubscribe).items():
        mime[name] = value
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    for part in mime.walk():  # the stdlib repeats MIME-Version on every part it wraps
        if part is not mime:
            del part["MIME-Version"]
    return mime


def message_id_of(mime: MimeMessage) -> str:
    """The Message-ID without its angle brackets, as providers' events quote it."""
    return bare_id(str(mime["Message-ID"]))


def bare_id(message_id: str) -> str:
    return message_id.strip().removeprefix("<").removesuffix(">")
