"""The providers, one per capability: a Selector where Settings choose the adapter, a
Singleton where there is one; tests swap any of them in a `with container.<name>.override(...)`
block."""

from __future__ import annotations

from dependency_injector import containers, providers

from justdriving.adapters import memory
from justdriving.adapters.accounting import factory as accounting_adapters
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.documents import DeferredInvoicePdf
from justdriving.adapters.documents import factory as document_adapters
from justdriving.adapters.email import factory as email_adapters
from justdriving.adapters.email.log import LogEmailSender
from justdriving.adapters.host_events import factory as host_event_adapters
from justdriving.adapters.memory.factory import fake_gateway
from justdriving.adapters.payments import factory as payment_adapters
from justdriving.adapters.sms import factory as sms_adapters
from justdriving.adapters.sms.log import LogSmsSender
from justdriving.adapters.sql import factory as sql
from justdriving.adapters.templates import factory as template_adapters
from justdriving.adapters.webhooks import factory as webhook_adapters
from justdriving.config import Settings
from justdriving.config.policies import relay_policy
from justdriving.container import wiring
from justdriving.domain.services.inbox_defaults import UnitOfWorkIntake


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
        wiring.application,
        settings,
        uow=uow,
        clock=clock,
        gateways=gateways,
        sms=sms,
        email=email,
        renderer=renderer,
        relay_policy=relay_policy,
        invoice_pdf=invoice_pdf,
        pay_links=pay_links,
        receivers=receivers,
        inbox_intake=inbox_intake,
        accounting=accounting,
        exporter=exporter,
        grants=grants,
        host_events=providers.Singleton(host_event_adapters.host_event_sender, settings, clock),
    )
