"""Twilio behind the SmsSender port, through the official twilio-python SDK.

Imported only by the container: importing it loads twilio-python.

One message is one `POST /2010-04-01/Accounts/{sid}/Messages.json`. Its StatusCallback is the
configured URL plus `ref=<our message id>`, so a delivery receipt finds our message even when
the answer to the create call was lost and we never learnt the MessageSid. `api_base` sends the
SDK's requests to another origin (the simulator in justdriving.testing) through the SDK's own
`http_client` extension point; nothing in the SDK is patched.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from justdriving.adapters.sms.twilio.errors import translate, translate_transport
from justdriving.adapters.sms.twilio.http_client import TwilioHttp
from justdriving.domain.errors import ConfigurationError, ProviderUnavailable
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber

REFERENCE_PARAMETER = "ref"
# Not os.environ: config.py is the only reader of the environment, so TWILIO_EDGE and
# TWILIO_REGION must not redirect the SDK behind our back. (An empty mapping would make the
# SDK fall back to os.environ.)
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}


class TwilioSmsSender:
    """Sends one SMS per call; not idempotent (Twilio has no key), errors translated."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        api_base: str | None = None,
        name: str = "twilio",
        timeout: float = 30.0,
    ) -> None:
        problems = [
            setting
            for setting, value in (
                ("SMS_PROVIDER_KEY (account SID)", account_sid),
                ("SMS_PROVIDER_SECRET (auth token)", auth_token),
                (
                    "SMS_FROM_NUMBER (or a messaging service SID)",
                    from_number or messaging_service_sid,
                ),
            )
            if not value
        ]
        if problems:
            raise ConfigurationError(f"{name} is not configured", problems)
        self.name = name
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._status_callback = status_callback
        self._http = TwilioHttp(api_base, timeout)
        self._client = Client(
            account_sid, auth_token, http_client=self._http, environment=_NO_ENVIRONMENT
        )

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        try:
            created = self._client.messages.create(**self._parameters(to, message))
        except TwilioException as error:
            raise translate(error, self.name, self._http.last_retry_after()) from error
        except requests.RequestException as error:
            raise translate_transport(error, self.name) from error
        except ValueError as error:  # a 2xx whose body is not the Message resource
            raise _unreadable(self.name) from error
        sid = getattr(created, "sid", None)
        if not isinstance(sid, str) or not sid:
            raise _unreadable(self.name)
        return SendReceipt(self.name, sid)

    def close(self) -> None:
        session = getattr(self._http, "session", None)
        if session is not None:
            session.close()

    def _parameters(self, to: PhoneNumber, message: SmsMessage) -> dict[str, str]:
        parameters = {"to": to.e164, "body": message.body}
        sender = message.sender_id or self._from_number
        if sender:
            parameters["from_"] = sender
        if self._messaging_service_sid:
            parameters["messaging_service_sid"] = self._messaging_service_sid
        if self._status_callback:
            parameters["status_callback"] = with_reference(self._status_callback, message.reference)
        return parameters


def with_reference(url: str, reference: str) -> str:
    """`url` with `ref=<reference>` added to its query (an existing `ref` is replaced)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "ref"]
    query.append((REFERENCE_PARAMETER, reference))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _unreadable(provider: str) -> ProviderUnavailable:
    return ProviderUnavailable(
        provider, "Twilio's answer had no message SID; it may have been sent", possibly_done=True
    )
