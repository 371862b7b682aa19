"""The environment's part of the domain's policies: delivery (SMS kill switch, redirects,
allow-lists) and the relay's lease."""

from datetime import timedelta

from justdriving.config.settings import Settings
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import ConfigurationError, InvalidInput
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.relay.engine import RelayPolicy


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """SMS_ENABLED, SMS_/MAIL_REDIRECT_TO and SMS_/MAIL_ALLOWLIST as a DeliveryPolicy; a
    redirect that is not a number or an address is a ConfigurationError naming it."""
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


def relay_policy(settings: Settings) -> RelayPolicy:
    """How long a relay holds an outbox row it claimed (RELAY_LEASE_SECONDS), and how many
    it works at once (RELAY_IN_FLIGHT)."""
    return RelayPolicy(
        lease=timedelta(seconds=settings.relay_lease_seconds),
        in_flight=settings.relay_in_flight,
    )
