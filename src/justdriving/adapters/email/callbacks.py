"""SendGrid's and Mailgun's event verifiers behind the EmailWebhooks port."""

from __future__ import annotations

from datetime import datetime

from justdriving.adapters.email.mailgun_events import MailgunWebhooks
from justdriving.adapters.email.sendgrid_events import SendGridWebhooks
from justdriving.domain.delivery import DeliveryReceipt
from justdriving.ports.messaging import WebhookRequest


class EmailCallbacks:
    def __init__(self, webhooks: SendGridWebhooks | MailgunWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def events(self, request: WebhookRequest, now: datetime) -> list[DeliveryReceipt]:
        return self._webhooks.parse(request.body, request.headers, now)
