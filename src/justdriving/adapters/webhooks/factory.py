"""The provider callback receivers the settings configure, for the container: one per
provider whose signing secret is set (SDKs imported only when chosen), and how the received
events are applied (before the answer only with QUEUE_BACKEND=inline)."""

from __future__ import annotations

import logging

from justdriving.config import Mailer, QueueBackend, Settings, SmsProvider
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.ports.webhooks import WebhookReceiver, WebhookReceivers


def webhook_receivers(
    settings: Settings, gateways: GatewayRegistry, uow: UnitOfWorkFactory
) -> WebhookReceivers:
    """Payment receivers come with the gateways; SMS and email ones with their secrets.
    Mailgun's replay tokens are kept in the database, seen by every process."""
    from justdriving.adapters.webhooks.registry import Receivers

    return Receivers(message_receivers(settings, uow), gateways)


def message_receivers(settings: Settings, uow: UnitOfWorkFactory) -> list[WebhookReceiver]:
    from justdriving.adapters.webhooks import messages

    fallback = settings.sms_fallback()
    receivers = sms_receivers(settings) + (sms_receivers(fallback) if fallback else [])
    secret = settings.mail_webhook_secret
    if secret and settings.mail_mailer is Mailer.SENDGRID:
        from justdriving.adapters.email.sendgrid import SendGridWebhooks

        receivers.append(messages.SendGridReceiver(SendGridWebhooks(secret)))
    if secret and settings.mail_mailer is Mailer.MAILGUN:
        from justdriving.adapters.email.mailgun import MailgunWebhooks
        from justdriving.adapters.webhooks.replay import StoredTokenCache

        mailgun = MailgunWebhooks(secret, StoredTokenCache(uow))
        receivers.append(messages.MailgunReceiver(mailgun))
    return receivers


def sms_receivers(settings: Settings) -> list[WebhookReceiver]:
    """The receiver of SMS_PROVIDER's callbacks, when its signing secret is set."""
    from justdriving.adapters.webhooks import messages

    provider = settings.sms_provider
    if provider is SmsProvider.TWILIO and settings.sms_provider_secret:
        from justdriving.adapters.sms.twilio import TwilioWebhooks

        twilio = TwilioWebhooks(settings.sms_provider_secret, settings.public_base_url or "")
        return [messages.TwilioReceiver(twilio)]
    if provider is SmsProvider.GATEWAYAPI and settings.sms_webhook_secret:
        from justdriving.adapters.sms.gatewayapi import GatewayApiWebhooks

        return [messages.GatewayApiReceiver(GatewayApiWebhooks(settings.sms_webhook_secret))]
    return []


def apply_inline(settings: Settings) -> bool:
    """Webhooks are applied before the answer only when there is no worker to do it."""
    return settings.queue_backend is QueueBackend.INLINE


def log_failure(inbox_id: str, error: BaseException) -> None:
    logging.getLogger("justdriving.web").error(
        "webhook %s stored, applying it failed; the worker retries", inbox_id, exc_info=error
    )
