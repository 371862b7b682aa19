"""Mailgun behind the EmailSender port, over httpx: `POST /v3/{domain}/messages`.

Imported only by the container: importing it loads httpx.

Basic auth `api:<key>`; a form with from, to, subject, text, html and each attachment as a file
(multipart), our reference as the user variable `v:reference` (Mailgun echoes it in every
event's `user-variables`) and as a header, `o:tag` transactional or bulk, and List-Unsubscribe
for bulk mail. Mailgun answers 200 with `{"id": "<…>"}`; the receipt keeps the id without its
angle brackets, as events quote it (`message.headers.message-id`).

Errors: 401/403 and 404 (no such domain) ConfigurationError; 429 ProviderUnavailable with
Retry-After; 5xx and a reply lost after the request went out ProviderUnavailable,
`possibly_done`; a connection refused ProviderUnavailable; other 4xx ProviderRejected.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from justdriving.adapters.email.mime import (
    ListUnsubscribe,
    Mailbox,
    bare_id,
    check_address,
    check_message,
    extra_headers,
)
from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidInput,
    JustDrivingError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.messages import EmailMessage, SendReceipt

EU_API_BASE = "https://api.eu.mailgun.net"
US_API_BASE = "https://api.mailgun.net"
REFERENCE_VARIABLE = "reference"
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class MailgunEmailSender:
    """Sends through one Mailgun sending domain (EU region by default)."""

    def __init__(
        self,
        api_key: str,
        domain: str,
        *,
        api_base: str = EU_API_BASE,
        from_address: str,
        from_name: str | None = None,
        name: str = "mailgun",
        unsubscribe: ListUnsubscribe | None = None,
        timeout: float = 30.0,
    ) -> None:
        problems = [] if api_key else ["MAIL_API_KEY is empty"]
        if not _DOMAIN.match(domain or ""):
            problems.append(f"the Mailgun sending domain {domain!r} is not a domain name")
        if problems:
            raise ConfigurationError(f"{name} is not configured", problems)
        self.name, self.domain = name, domain
        self._sender = Mailbox.configured(from_address, from_name, name)
        self._unsubscribe = unsubscribe
        self._http = httpx.Client(
            base_url=api_base.rstrip("/"),
            auth=("api", api_key),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        )
        self._errors = ProviderHttp(
            name,
            "Mailgun",
            settings=["MAIL_API_KEY"],
            reason=_reason,
            address_settings=["MAIL_API_BASE_URL"],
        )

    def close(self) -> None:
        self._http.close()

    def send(self, message: EmailMessage) -> SendReceipt:
        try:
            fields = self.form(message)
        except InvalidInput as error:
            raise ProviderRejected(
                self.name, str(error), provider_code="invalid_message"
            ) from error
        # Always multipart/form-data, the one encoding Mailgun's OpenAPI document lists for
        # this endpoint: each field a part without a file name, then the attachments.
        parts: list[tuple[str, tuple[str | None, Any] | tuple[str, bytes, str]]] = [
            (name, (None, str(item)))
            for name, value in fields.items()
            for item in (value if isinstance(value, list | tuple) else [value])
        ]
        parts += [
            ("attachment", (a.filename, a.content, a.content_type)) for a in message.attachments
        ]
        response = self._errors.send(
            self._http,
            "POST",
            f"/v3/{self.domain}/messages",
            what="sending",
            write=True,
            files=parts,
        )
        if response.status_code != 200:
            raise self._refused(response)
        try:
            message_id = bare_id(str(response.json()["id"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ProviderUnavailable(
                self.name, "Mailgun's answer has no message id", possibly_done=True
            ) from error
        return SendReceipt(self.name, message_id)

    def form(self, message: EmailMessage) -> dict[str, Any]:
        """The form fields for `message` (attachments go as files); InvalidInput if unsafe."""
        check_message(message)
        fields: dict[str, Any] = {
            "from": str(self._sender.for_message(message)),
            "to": check_address(message.to.value).addr_spec,
            "subject": message.subject,
            "text": message.text,
            f"v:{REFERENCE_VARIABLE}": message.reference,
            "o:tag": "bulk" if message.bulk else "transactional",
        }
        if message.html is not None:
            fields["html"] = message.html
        if message.reply_to is not None:
            fields["h:Reply-To"] = check_address(message.reply_to.value).addr_spec
        for header, value in extra_headers(message, self._unsubscribe).items():
            fields[f"h:{header}"] = value
        return fields

    def _refused(self, response: httpx.Response) -> JustDrivingError:
        if response.status_code == 404:
            return ConfigurationError(
                f"{self.name} does not know the domain {self.domain}",
                [f"the Mailgun sending domain ({self._errors.reason(response)})"],
            )
        return self._errors.error_for(response, "sending", write=True)


def _reason(response: httpx.Response) -> Reason:
    """Mailgun's `message`, under the status as the code."""
    try:
        text = str(response.json()["message"])[:300]
    except (ValueError, KeyError, TypeError):
        text = response.text[:300] or "no details"
    return Reason(str(response.status_code), text)
