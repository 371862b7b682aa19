"""The composition root: picks an adapter for every port from Settings. Nothing else does."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from justdriving.adapters.documents import FpdfInvoicePdf
from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    LogEmailSender,
    LogSmsSender,
    MemoryGatewayRegistry,
    MemoryStore,
    MemoryUnitOfWorkFactory,
    SystemClock,
)
from justdriving.adapters.rate_limits import RollingWindowLimiter
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import pending
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.config import (
    AccountingProvider,
    Mailer,
    PaymentProvider,
    QueueBackend,
    Settings,
    SmsProvider,
)
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import ConfigurationError, InvalidInput
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.services.accounting_export import AccountingExporter
from justdriving.domain.services.application import Application
from justdriving.domain.services.grants import StoredGrants
from justdriving.domain.services.relay import RelayPolicy
from justdriving.ports.accounting import AccountingClient, AccountingConsent, GrantStore
from justdriving.ports.messaging import EmailSender, SmsSender
from justdriving.ports.payments import GatewayRegistry, PaymentGateway
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.ports.webhooks import WebhookReceiver, WebhookReceivers

if TYPE_CHECKING:
    from celery import Celery

# Outside production a fixed, public secret signs the fake gateway's webhooks so the whole
# loop works with nothing configured; production refuses the fake gateway altogether.
DEV_WEBHOOK_SECRET = "whsec_justdriving_development_only"  # noqa: S105

# Adapters this build can wire, per setting. Real providers join these as they are built.
AVAILABLE = {
    "PAYMENT_PROVIDER": ("fake", "stripe", "paypal", "manual"),
    "SMS_PROVIDER": ("fake", "log", "twilio", "gatewayapi"),
    "MAIL_MAILER": ("fake", "log", "file", "smtp", "sendgrid", "mailgun"),
}


MEMORY_DATABASE = "memory://"


def _webhook_secret(settings: Settings) -> str:
    return settings.payment_webhook_secret or DEV_WEBHOOK_SECRET


def _relay_policy(settings: Settings) -> RelayPolicy:
    return RelayPolicy(lease=timedelta(seconds=settings.relay_lease_seconds))


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    """The environment's part of the delivery policy: kill switch, redirects, allow-lists."""
    try:
        sms_redirect = PhoneNumber(settings.sms_redirect_to) if settings.sms_redirect_to else None
    except InvalidInput:
        raise ConfigurationError("bad setting", ["SMS_REDIRECT_TO: not an E.164 number"]) from None
    try:
        mail_redirect = (
            EmailAddress.parse(settings.mail_redirect_to) if settings.mail_redirect_to else None
        )
    except InvalidInput:
        raise ConfigurationError("bad setting", ["MAIL_REDIRECT_TO: not an address"]) from None
    return DeliveryPolicy(
        sms_enabled=settings.sms_enabled,
        sms_redirect_to=sms_redirect,
        mail_redirect_to=mail_redirect,
        sms_allowlist=frozenset(settings.sms_allowlist),
        mail_allowlist=frozenset(settings.mail_allowlist),
    )


SMS_STATUS_PATH = "/webhook/sms/{provider}/status"


def _callback(settings: Settings, path: str) -> str | None:
    base = settings.public_base_url
    return base.rstrip("/") + path if base else None


def _sms_limiter(settings: Settings) -> RollingWindowLimiter | None:
    """The process's one SMS rate limiter (SMS_RATE_LIMIT a second), or None: no pacing."""
    if settings.sms_rate_limit is None:
        return None
    from justdriving.adapters.sms.pacing import sms_limiter

    return sms_limiter(settings.sms_rate_limit)


def _sms_sender(settings: Settings, limiter: RollingWindowLimiter | None = None) -> SmsSender:
    """The provider's sender, paced by `limiter` when SMS_RATE_LIMIT is set."""
    sender = _provider_sms_sender(settings)
    if limiter is None:
        return sender
    from justdriving.adapters.sms.pacing import PacedSmsSender

    return PacedSmsSender(sender, limiter, key=sender.name)


def _provider_sms_sender(settings: Settings) -> SmsSender:
    """Twilio or GatewayAPI, imported only when chosen."""
    provider = settings.sms_provider
    status = _callback(settings, SMS_STATUS_PATH.format(provider=provider.value))
    if provider is SmsProvider.TWILIO:
        from justdriving.adapters.sms.twilio import TwilioSmsSender

        return TwilioSmsSender(
            settings.sms_provider_key or "",
            settings.sms_provider_secret or "",
            from_number=settings.sms_from_number,
            status_callback=status,
            api_base=settings.sms_api_base_url,
        )
    from justdriving.adapters.sms.gatewayapi import DEFAULT_API_BASE, GatewayApiSmsSender

    return GatewayApiSmsSender(
        settings.sms_provider_secret or "",
        sender=settings.sms_from_number or "",
        callback_url=status,
        api_base=settings.sms_api_base_url or DEFAULT_API_BASE,
    )


def _log_webhook_failure(inbox_id: str, error: BaseException) -> None:
    logging.getLogger("justdriving.web").error(
        "webhook %s stored, applying it failed; the worker retries", inbox_id, exc_info=error
    )


def _inline(settings: Settings) -> bool:
    """Webhooks are applied before the answer only when there is no worker to do it."""
    return settings.queue_backend is QueueBackend.INLINE


def _webhook_receivers(
    settings: Settings, gateways: GatewayRegistry, uow: UnitOfWorkFactory
) -> WebhookReceivers:
    """One receiver per configured provider callback (adapters.webhooks), SDKs imported only
    when chosen. Mailgun's replay tokens are kept in the database, seen by every process."""
    from justdriving.adapters.webhooks.registry import Receivers

    return Receivers(_message_receivers(settings, uow), gateways)


def _message_receivers(settings: Settings, uow: UnitOfWorkFactory) -> list[WebhookReceiver]:
    from justdriving.adapters.webhooks import messages

    receivers: list[WebhookReceiver] = []
    provider = settings.sms_provider
    if provider is SmsProvider.TWILIO and settings.sms_provider_secret:
        from justdriving.adapters.sms.twilio_webhooks import TwilioWebhooks

        twilio = TwilioWebhooks(settings.sms_provider_secret, settings.public_base_url or "")
        receivers.append(messages.TwilioReceiver(twilio))
    if provider is SmsProvider.GATEWAYAPI and settings.sms_webhook_secret:
        from justdriving.adapters.sms.gatewayapi_webhooks import GatewayApiWebhooks

        gatewayapi = GatewayApiWebhooks(settings.sms_webhook_secret)
        receivers.append(messages.GatewayApiReceiver(gatewayapi))
    secret = settings.mail_webhook_secret
    if secret and settings.mail_mailer is Mailer.SENDGRID:
        from justdriving.adapters.email.sendgrid_events import SendGridWebhooks

        receivers.append(messages.SendGridReceiver(SendGridWebhooks(secret)))
    if secret and settings.mail_mailer is Mailer.MAILGUN:
        from justdriving.adapters.email.mailgun_events import MailgunWebhooks
        from justdriving.adapters.webhooks.replay import StoredTokenCache

        mailgun = MailgunWebhooks(secret, StoredTokenCache(uow))
        receivers.append(messages.MailgunReceiver(mailgun))
    return receivers


def _email_sender(settings: Settings) -> EmailSender:
    """SMTP, SendGrid, Mailgun or the file inbox: each imported only when chosen."""
    mailer, sender, name = settings.mail_mailer, settings.mail_from_address, settings.mail_from_name
    sender = sender or "justdriving@localhost"
    url = settings.mail_unsubscribe_url
    from justdriving.adapters.email.mime import ListUnsubscribe

    unsubscribe = ListUnsubscribe(url=url) if url else None
    if mailer is Mailer.SMTP:
        from justdriving.adapters.email.smtp import SmtpEmailSender

        return SmtpEmailSender(
            settings.mail_host or "localhost",
            settings.mail_port,
            username=settings.mail_username,
            password=settings.mail_password,
            encryption=settings.mail_encryption.value,
            from_address=sender,
            from_name=name,
            unsubscribe=unsubscribe,
        )
    if mailer is Mailer.SENDGRID:
        from justdriving.adapters.email.sendgrid import SendGridEmailSender

        return SendGridEmailSender(
            settings.mail_api_key or "",
            from_address=sender,
            from_name=name,
            api_base=settings.mail_api_base_url,
            unsubscribe=unsubscribe,
        )
    if mailer is Mailer.MAILGUN:
        from justdriving.adapters.email.mailgun import EU_API_BASE, MailgunEmailSender

        return MailgunEmailSender(
            settings.mail_api_key or "",
            settings.mail_domain or sender.rpartition("@")[2],
            api_base=settings.mail_api_base_url or EU_API_BASE,
            from_address=sender,
            from_name=name,
            unsubscribe=unsubscribe,
        )
    from justdriving.adapters.email.file_inbox import FileInboxEmailSender

    return FileInboxEmailSender(
        settings.mail_inbox_dir, from_address=sender, from_name=name, unsubscribe=unsubscribe
    )


def _accounting(settings: Settings, grants: GrantStore) -> AccountingClient | None:
    """The accounting system ACCOUNTING_PROVIDER names, imported only when chosen."""
    provider, key, secret = (
        settings.accounting_provider,
        settings.accounting_api_key or "",
        settings.accounting_api_secret or "",
    )
    tenant, base, token = (
        settings.accounting_tenant_id or "",
        settings.accounting_api_base_url,
        settings.accounting_token_url,
    )
    if provider is AccountingProvider.FAKE:
        return FakeAccountingClient()
    if provider is AccountingProvider.CSV:
        from justdriving.adapters.accounting.csv_client import CsvAccountingClient

        return CsvAccountingClient(settings.accounting_export_dir or "accounting-exports")
    if provider is AccountingProvider.XERO:
        from justdriving.adapters.accounting.xero import (
            API_BASE,
            IDENTITY_BASE,
            XeroAccountingClient,
        )

        return XeroAccountingClient(
            key,
            secret,
            tenant,
            grants,
            api_base=base or API_BASE,
            identity_base=token or IDENTITY_BASE,
            payment_account_code=settings.accounting_payment_account,
        )
    if provider is AccountingProvider.QUICKBOOKS:
        from justdriving.adapters.accounting.quickbooks import (
            LIVE_API,
            TOKEN_URL,
            QuickBooksAccountingClient,
        )

        return QuickBooksAccountingClient(
            key, secret, tenant, grants, api_base=base or LIVE_API, token_url=token or TOKEN_URL
        )
    return None


def accounting_consent(settings: Settings) -> AccountingConsent:
    """The authorisation-code flow of ACCOUNTING_PROVIDER (xero or quickbooks), on the same
    token endpoint (ACCOUNTING_TOKEN_URL) and API root the sync uses."""
    provider = settings.accounting_provider
    if provider not in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
        raise ConfigurationError(
            f"ACCOUNTING_PROVIDER={provider}: connecting is for xero or quickbooks"
        )
    missing = [
        name
        for name, value in (
            ("ACCOUNTING_API_KEY", settings.accounting_api_key),
            ("ACCOUNTING_API_SECRET", settings.accounting_api_secret),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(f"{provider} needs the app's client id and secret", missing)
    key, secret = settings.accounting_api_key or "", settings.accounting_api_secret or ""
    token, base = settings.accounting_token_url, settings.accounting_api_base_url
    if provider is AccountingProvider.XERO:
        from justdriving.adapters.accounting.xero import API_BASE, IDENTITY_BASE
        from justdriving.adapters.accounting.xero_consent import XeroConsent

        return XeroConsent(
            key, secret, identity_base=token or IDENTITY_BASE, api_base=base or API_BASE
        )
    from justdriving.adapters.accounting.quickbooks import TOKEN_URL
    from justdriving.adapters.accounting.quickbooks_consent import QuickBooksConsent

    return QuickBooksConsent(key, secret, token_url=token or TOKEN_URL)


def _token_cipher(settings: Settings) -> TokenCipher | None:
    """The cipher of the stored OAuth tokens (imports cryptography), or None without a key."""
    keys = settings.accounting_token_keys
    return TokenCipher(keys) if keys else None


def grant_store(settings: Settings) -> GrantStore:
    """The database's OAuth grants (where the sync reads them), for connecting an organisation
    without wiring the rest of the application. Refuses memory:// and an unmigrated database."""
    url = settings.effective_database_url
    if url == MEMORY_DATABASE:
        raise ConfigurationError(
            "a grant in memory:// is gone when the command ends", ["DATABASE_URL"]
        )
    engine = make_engine(url)
    if pending(engine):
        raise ConfigurationError(
            "the database is not migrated", ["DATABASE_URL: run `justdriving migrate` first"]
        )
    return StoredGrants(SqlUnitOfWorkFactory(engine, _token_cipher(settings)))


def _exporter(settings: Settings) -> AccountingExporter | None:
    if not settings.accounting_export_dir:
        return None
    from justdriving.adapters.accounting.csv_export import CsvExporter

    return CsvExporter(settings.accounting_export_dir)


def _gateways(settings: Settings, fake: PaymentGateway) -> MemoryGatewayRegistry:
    """The platform's gateway (PAYMENT_PROVIDER, each school's default), and no other: its
    webhook route is the only one mounted. The fake is there only when it is the one chosen
    (never in production), so that an event signed with PAYMENT_WEBHOOK_SECRET — a PayPal
    webhook id is no secret — or the public development secret can never reach a real
    provider's payments. Provider SDKs are imported here, only when chosen."""
    gateways: dict[str, PaymentGateway] = {}
    provider = settings.payment_provider
    if provider is PaymentProvider.FAKE:
        gateways["fake"] = fake
    elif provider is PaymentProvider.STRIPE:
        from justdriving.adapters.payments.stripe import StripeGateway

        gateways["stripe"] = StripeGateway(
            settings.payment_provider_secret or "",
            settings.payment_webhook_secret or "",
            api_base=settings.payment_api_base_url,
        )
    elif provider is PaymentProvider.PAYPAL:
        from justdriving.adapters.payments.paypal import LIVE_API, SANDBOX_API, PayPalGateway

        default_api = LIVE_API if settings.is_production else SANDBOX_API
        gateways["paypal"] = PayPalGateway(
            settings.payment_provider_key or "",
            settings.payment_provider_secret or "",
            settings.payment_webhook_secret or "",
            api_base=settings.payment_api_base_url or default_api,
        )
    default = None if provider is PaymentProvider.MANUAL else provider.value
    return MemoryGatewayRegistry(gateways, default=default)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    store = providers.Singleton(MemoryStore)
    engine = providers.Singleton(make_engine, config.database_url)
    token_cipher = providers.Singleton(_token_cipher, settings)
    uow = providers.Selector(
        config.database,
        memory=providers.Singleton(MemoryUnitOfWorkFactory, store),
        sql=providers.Singleton(SqlUnitOfWorkFactory, engine, token_cipher),
    )

    fake_gateway = providers.Singleton(
        FakePaymentGateway,
        name="fake",
        webhook_secret=providers.Callable(_webhook_secret, settings),
        clock=clock,  # signs on the clock the app verifies with, overridden or not
    )
    gateways = providers.Singleton(_gateways, settings, fake_gateway)

    sms_limiter = providers.Singleton(_sms_limiter, settings)
    relay_policy = providers.Singleton(_relay_policy, settings)
    provider_sms = providers.Singleton(_sms_sender, settings, sms_limiter)
    sms = providers.Selector(
        config.sms_provider,
        fake=providers.Singleton(FakeSmsSender),
        log=providers.Singleton(LogSmsSender),
        twilio=provider_sms,
        gatewayapi=provider_sms,
    )
    receivers = providers.Singleton(_webhook_receivers, settings, gateways, uow)
    provider_email = providers.Singleton(_email_sender, settings)
    email = providers.Selector(
        config.mail_mailer,
        fake=providers.Singleton(FakeEmailSender),
        log=providers.Singleton(LogEmailSender),
        file=provider_email,
        smtp=provider_email,
        sendgrid=provider_email,
        mailgun=provider_email,
    )
    renderer = providers.Singleton(JinjaTemplateRenderer)
    grants = providers.Singleton(StoredGrants, uow)
    accounting = providers.Singleton(_accounting, settings, grants)
    exporter = providers.Singleton(_exporter, settings)
    invoice_pdf = providers.Singleton(FpdfInvoicePdf)

    application = providers.Singleton(
        Application,
        uow=uow,
        clock=clock,
        gateways=gateways,
        sms=sms,
        email=email,
        renderer=renderer,
        delivery=providers.Singleton(_delivery_policy, settings),
        relay_policy=relay_policy,
        invoice_pdf=invoice_pdf,
        accounting=accounting,
        exporter=exporter,
        receivers=receivers,
        apply_webhooks_inline=providers.Callable(_inline, settings),
        webhook_failures=providers.Object(_log_webhook_failure),
    )


def build_container(settings: Settings) -> Container:
    """A container for `settings`; ConfigurationError names every setting it cannot honour."""
    settings.check()
    chosen = {
        "PAYMENT_PROVIDER": settings.payment_provider.value,
        "SMS_PROVIDER": settings.sms_provider.value,
        "MAIL_MAILER": settings.mail_mailer.value,
    }
    problems = [
        f"{name}: {value!r} is not available in this build (choose {', '.join(AVAILABLE[name])})"
        for name, value in chosen.items()
        if value not in AVAILABLE[name]
    ]
    if problems:
        raise ConfigurationError("cannot start with these settings", problems)
    _delivery_policy(settings)  # refuse a bad redirect now, not at the first message
    container = Container(settings=settings)
    sms = chosen["SMS_PROVIDER"]
    url = settings.effective_database_url
    container.config.from_dict(
        {
            "sms_provider": sms,
            "mail_mailer": chosen["MAIL_MAILER"],
            "database": "memory" if url == MEMORY_DATABASE else "sql",
            "database_url": url,
        }
    )
    return container


def bootstrap(settings: Settings | None = None) -> Application:
    """The wired application: settings from the environment unless given.

    Refuses a database that lacks migrations, saying how to apply them."""
    container = build_container(settings or Settings.from_env())
    if container.config.database() == "sql" and pending(container.engine()):
        raise ConfigurationError(
            "the database is not migrated", ["DATABASE_URL: run `justdriving migrate` first"]
        )
    return container.application()


def celery_app(settings: Settings | None = None) -> Celery:
    """The Celery app for QUEUE_BACKEND=celery (`justdriving celery worker`): each worker
    process bootstraps the application once, on its first task. Imports Celery only when called."""
    from justdriving.adapters.celery_relay import make_celery

    return make_celery(settings or Settings.from_env(), bootstrap)
