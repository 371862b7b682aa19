"""Message callbacks: SMS delivery receipts and replies, email events. Each is verified on
the raw request, deduplicated through the inbox, and applied before the 2xx answer (they
change one message or the suppression list: nothing to wait for)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Headers

from justdriving.domain.errors import NotFound
from justdriving.domain.messages import Channel
from justdriving.domain.services.application import Application
from justdriving.ports.messaging import EmailWebhooks, SmsWebhooks, WebhookRequest

# Twilio reads the answer to an inbound SMS as TwiML: an empty response sends no reply (our
# own HELP answer goes through the outbox like every other message).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

P = TypeVar("P")
HeaderView = Callable[[Headers], Mapping[str, str]]


def message_blueprint(
    app: Application,
    sms: Mapping[str, SmsWebhooks],
    email: Mapping[str, EmailWebhooks],
    headers: HeaderView,
) -> Blueprint:
    views = _MessageViews(app, sms, email, headers)
    blueprint = Blueprint("justdriving_messages", __name__)
    for rule, view in (
        ("/webhook/sms/<provider>/status", views.sms_status),
        ("/webhook/sms/<provider>/inbound", views.sms_inbound),
        ("/webhook/email/<provider>", views.email_events),
    ):
        blueprint.add_url_rule(
            rule, view_func=view, methods=["POST"], provide_automatic_options=False
        )
    return blueprint


class _MessageViews:
    def __init__(
        self,
        app: Application,
        sms: Mapping[str, SmsWebhooks],
        email: Mapping[str, EmailWebhooks],
        headers: HeaderView,
    ) -> None:
        self._app, self._sms, self._email, self._headers = app, sms, email, headers

    def sms_status(self, provider: str) -> ResponseReturnValue:
        parser = _find(self._sms, provider, "SMS provider")
        receipt = parser.status(self._request(), self._app.clock.now())
        outcome = self._app.apply_message_receipts(Channel.SMS, [receipt])
        return {"applied": outcome.applied, "duplicates": outcome.duplicates}

    def sms_inbound(self, provider: str) -> ResponseReturnValue:
        parser = _find(self._sms, provider, "SMS provider")
        self._app.receive_inbound_sms(parser.inbound(self._request(), self._app.clock.now()))
        if provider == "twilio":
            return Response(EMPTY_TWIML, mimetype="text/xml")
        return {"received": True}

    def email_events(self, provider: str) -> ResponseReturnValue:
        parser = _find(self._email, provider, "email provider")
        receipts = parser.events(self._request(), self._app.clock.now())
        outcome = self._app.apply_message_receipts(Channel.EMAIL, receipts)
        return {"applied": outcome.applied, "duplicates": outcome.duplicates}

    def _request(self) -> WebhookRequest:
        # The path as the provider called it, below the app's root, with its query: the
        # signature covers PUBLIC_BASE_URL + this, not whatever URL a proxy handed us.
        path = request.full_path if request.query_string else request.path
        body = request.get_data(cache=False)
        return WebhookRequest(path=path, body=body, headers=self._headers(request.headers))


def _find(parsers: Mapping[str, P], provider: str, kind: str) -> P:
    parser = parsers.get(provider)
    if parser is None:
        raise NotFound(kind, provider)
    return parser
