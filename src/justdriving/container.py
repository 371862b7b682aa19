"""The composition root: one provider per capability, chosen by Settings; nothing else picks
an adapter. Each adapter package builds its own (`adapters/*/factory.py`, SDKs imported only
when chosen). Tests swap any provider in a `with container.<name>.override(...)` block."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from dependency_injector import containers, providers

from justdriving.adapters import memory
from justdriving.adapters.accounting import factory as accounting_adapters
from justdriving.adapters.accounting.factory import accounting_consent
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.documents import DeferredInvoicePdf
from justdriving.adapters.documents import factory as document_adapters
from justdriving.adapters.email import factory as email_adapters
from justdriving.adapters.email.log import LogEmailSender
from justdriving.adapters.host_events import factory as host_event_adapters
from justdriving.adapters.memory.factory import DEV_WEBHOOK_SECRET, fake_gateway
from justdriving.adapters.payments import factory as payment_adapters
from justdriving.adapters.sms import factory as sms_adapters
from justdriving.adapters.sms.log import LogSmsSender
from justdriving.adapters.sql import factory as sql
from justdriving.adapters.sql.factory import MEMORY_DATABASE, grant_store
from justdriving.adapters.templates import factory as template_adapters
from justdriving.adapters.webhooks import factory as webhook_adapters
from justdriving.config import AccountingProvider, Settings
from justdriving.config.policies import delivery_policy, relay_policy
from justdriving.domain.services.application import Application
from justdriving.domain.services.inbound import UnitOfWorkIntake
from justdriving.ports.accounting import AccountingConsent

__all__ = ["DEV_WEBHOOK_SECRET", "Container", "accounting_consent", "bootstrap"]
__all__ += ["build_container", "grant_store"]


def _redactor(settings: Settings) -> Callable[[str], str]:
    """The log redaction (with this configuration's secret values), for stored error texts."""
    from justdriving.logs import Redactor, secret_values

    return Redactor(secret_values(settings)).text


def _consent(settings: Settings) -> Callable[[], AccountingConsent] | None:
    """The consent flow of ACCOUNTING_PROVIDER, made when a school connects its books."""
    if settings.accounting_provider not in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
        return None
    return partial(accounting_consent, settings)


def _unsealed(settings: Settings) -> bool:
    """Production without ACCOUNTING_TOKEN_KEY: a secret would be stored as it is."""
    return settings.is_production and not settings.accounting_token_key


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()  # database ("memory" or "sql") and database_url

    clock = providers.Singleton(SystemClock)
    store = providers.Singleton(memory.MemoryStore)
    engine = providers.Singleton(sql.make_engine, config.database_url)
    token_cipher = providers.Singleton(sql.token_cipher, settings)
    uow = providers.Selector(
        config.database,
        memory=providers.Singleton(memory.MemoryUnitOfWorkFactory, store),
        sql=providers.Singleton(sql.unit_of_work, engine, token_cipher),
    )

    fake_gateway = providers.Singleton(fake_gateway, settings, clock)
    payment_gateway = providers.Selector(
        settings.provided.payment_provider,
        fake=fake_gateway,
        stripe=providers.Singleton(payment_adapters.stripe_gateway, settings),
        paypal=providers.Singleton(payment_adapters.paypal_gateway, settings),
        manual=providers.Object(None),
    )
    mobilepay_gateway = providers.Singleton(payment_adapters.mobilepay_gateway, settings)
    platform_gateways = providers.Singleton(
        payment_adapters.gateway_registry, payment_gateway, mobilepay_gateway, settings=settings
    )
    # A school's own PayPal account (its stored credentials) before the platform's gateway.
    gateways = providers.Singleton(
        payment_adapters.school_gateways, platform_gateways, uow, settings
    )

    sms_limiter = providers.Singleton(sms_adapters.sms_limiter, settings)
    sms_primary = providers.Selector(
        settings.provided.sms_provider,
        fake=providers.Singleton(memory.FakeSmsSender),
        log=providers.Singleton(LogSmsSender),
        twilio=providers.Singleton(sms_adapters.twilio_sender, settings, sms_limiter),
        gatewayapi=providers.Singleton(sms_adapters.gatewayapi_sender, settings, sms_limiter),
    )
    sms = providers.Singleton(sms_adapters.with_fallback, sms_primary, settings, sms_limiter, clock)

    email = providers.Selector(
        settings.provided.mail_mailer,
        fake=providers.Singleton(memory.FakeEmailSender),
        log=providers.Singleton(LogEmailSender),
        file=providers.Singleton(email_adapters.file_inbox_sender, settings),
        smtp=providers.Singleton(email_adapters.smtp_sender, settings),
        sendgrid=providers.Singleton(email_adapters.sendgrid_sender, settings),
        mailgun=providers.Singleton(email_adapters.mailgun_sender, settings),
    )
    receivers = providers.Singleton(webhook_adapters.webhook_receivers, settings, gateways, uow)
    inbox_intake = providers.Selector(
        config.database,
        memory=providers.Singleton(UnitOfWorkIntake, uow),
        sql=providers.Singleton(sql.inbox_intake, engine),
    )

    grants = providers.Singleton(sql.StoredGrants, uow)
    accounting = providers.Selector(
        settings.provided.accounting_provider,
        none=providers.Object(None),
        fake=providers.Singleton(memory.FakeAccountingClient),
        csv=providers.Singleton(accounting_adapters.csv_client, settings),
        # Each school's own organisation (its connected grant), else ACCOUNTING_TENANT_ID's.
        xero=providers.Singleton(accounting_adapters.xero_books, settings, grants),
        quickbooks=providers.Singleton(accounting_adapters.quickbooks_books, settings, grants),
    )
    exporter = providers.Singleton(
        accounting_adapters.exporter, settings, settings.provided.is_production
    )

    renderer = providers.Singleton(template_adapters.message_renderer, settings)
    invoice_pdf = providers.Singleton(DeferredInvoicePdf)
    pay_links = providers.Singleton(document_adapters.pay_links, settings, clock)
    relay_policy = providers.Singleton(relay_policy, settings)
    application = providers.Singleton(
        Application,
        uow=uow,
        clock=clock,
        gateways=gateways,
        sms=sms,
        email=email,
        renderer=renderer,
        delivery=providers.Singleton(delivery_policy, settings),
        redact=providers.Singleton(_redactor, settings),
        relay_policy=relay_policy,
        invoice_pdf=invoice_pdf,
        pay_links=pay_links,
        receivers=receivers,
        apply_webhooks_inline=providers.Callable(webhook_adapters.apply_inline, settings),
        webhook_failures=providers.Object(webhook_adapters.log_failure),
        inbox_intake=inbox_intake,
        accounting=accounting,
        exporter=exporter,
        accounting_push=settings.provided.accounting_sync_enabled,
        host_events=providers.Singleton(host_event_adapters.host_event_sender, settings, clock),
        host_event_topics=providers.Callable(host_event_adapters.host_event_topics, settings),
        staff_alert_email=settings.provided.staff_alert_email,
        ops_base_url=settings.provided.public_base_url,
        accounting_consent=providers.Callable(_consent, settings),
        grants=grants,
        unsealed_secrets=providers.Callable(_unsealed, settings),
    )


def build_container(settings: Settings) -> Container:
    """A container for `settings`; ConfigurationError names every setting it cannot honour
    (a bad staging redirect and a malformed DATABASE_URL too, before any message or query)."""
    settings.check()
    delivery_policy(settings)
    url = settings.effective_database_url
    container = Container(settings=settings)
    container.config.from_dict(
        {"database": "memory" if url == MEMORY_DATABASE else "sql", "database_url": url}
    )
    if url != MEMORY_DATABASE:
        container.engine()
    return container


def bootstrap(settings: Settings | None = None) -> Application:
    """The wired application (settings from the environment unless given); a database that
    lacks migrations is refused, saying how to apply them, unless `application` is overridden."""
    container = build_container(settings or Settings.from_env())
    if container.config.database() == "sql" and not container.application.overridden:
        sql.refuse_unmigrated(container.engine())
    return container.application()
