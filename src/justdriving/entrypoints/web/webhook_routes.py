"""One view for every provider callback: `/webhook/<channel>/<provider>` (and the SMS
providers' `/webhook/sms/<provider>/status|inbound`, as configured at the providers; and
`/webhook/payments/paypal/<school id>` for a school's own PayPal account, verified with its
webhook id).

The view hands the raw request to `app.receive_webhook`, which verifies, stores and applies
(inline or by the worker, as composition chose) and answers with what was stored. A delivery
whose signature does not hold, or that is malformed, gets a 400 and leaves nothing behind; a
signed delivery that cannot be used is kept as rejected and acknowledged, so the provider
stops sending it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Headers

from justdriving.application import Application
from justdriving.domain.errors import NotFound
from justdriving.ports.webhooks import WebhookRequest

log = logging.getLogger("justdriving.web")

HeaderView = Callable[[Headers], Mapping[str, str]]
WEBHOOK_BLUEPRINT = "justdriving_webhooks"
_KINDS = {"sms": ("status", "inbound")}  # the channels whose URLs carry a kind of callback
_SCHOOL_ROUTES = "payments"  # whose URLs may carry a school id: its own account's webhooks


def webhook_blueprint(app: Application, headers: HeaderView) -> Blueprint:
    view = _WebhookView(app, headers)
    blueprint = Blueprint(WEBHOOK_BLUEPRINT, __name__)
    for rule in ("/webhook/<channel>/<provider>", "/webhook/<channel>/<provider>/<kind>"):
        blueprint.add_url_rule(
            rule, view_func=view.receive, methods=["POST"], provide_automatic_options=False
        )
    return blueprint


class _WebhookView:
    def __init__(self, app: Application, headers: HeaderView) -> None:
        self._app, self._headers = app, headers

    def receive(self, channel: str, provider: str, kind: str | None = None) -> ResponseReturnValue:
        if channel == _SCHOOL_ROUTES and kind is not None:
            # `/webhook/payments/<provider>/<school id>`: the school's own account (PayPal)
            provider, kind = f"{provider}/{kind}", None
        if (kind is None) != (channel not in _KINDS) or (kind and kind not in _KINDS[channel]):
            raise NotFound("webhook", request.path[:100])
        receiver = self._app.webhooks.receiver(channel, provider)  # NotFound before the body
        webhook = self._request()
        receipt = self._app.receive_webhook(channel, provider, webhook)
        log.info(
            "webhook %s/%s: %d stored, %d duplicates, %d ignored, %d rejected",
            channel,
            receiver.name,
            len(receipt.stored),
            receipt.duplicates,
            receipt.ignored,
            receipt.rejected,
        )
        acknowledgement = receiver.acknowledgement(webhook)
        if acknowledgement is not None:
            return Response(acknowledgement.body, mimetype=acknowledgement.mimetype)
        answer = {
            "received": len(receipt.stored),
            "duplicates": receipt.duplicates,
            "ignored": receipt.ignored,
        }
        if receipt.rejected:
            answer["rejected"] = receipt.rejected
        return answer

    def _request(self) -> WebhookRequest:
        # The path as the provider called it, below the app's root, with its query: Twilio's
        # signature covers PUBLIC_BASE_URL + this, not whatever URL a proxy handed us.
        path = request.full_path if request.query_string else request.path
        body = request.get_data(cache=False)
        return WebhookRequest(path=path, body=body, headers=self._headers(request.headers))
