"""The delivery policy every message passes before any provider call, in this order:
kill switch → staging redirect or allow-list → the school's toggles → suppression list →
quiet hours (deferred, not dropped) → per-recipient throttle → send."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import field, frozen

from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import MessageType, School


class Verdict(enum.StrEnum):
    SEND = "send"
    SUPPRESS = "suppress"  # never sent; the message says why
    DEFER = "defer"  # tried again at `until`, no attempt counted


@frozen
class Decision:
    verdict: Verdict
    reason: str = ""
    recipient: PhoneNumber | EmailAddress | None = None  # where to send (after a redirect)
    until: datetime | None = None
    notes: tuple[str, ...] = ()


def _addresses(values: frozenset[str]) -> frozenset[str]:
    return frozenset(value.strip().lower() for value in values if value.strip())


@frozen
class DeliveryPolicy:
    """The environment's part of the policy (from Settings); the school's part is on School."""

    sms_enabled: bool = True
    mail_enabled: bool = True
    sms_redirect_to: PhoneNumber | None = None
    mail_redirect_to: EmailAddress | None = None
    sms_allowlist: frozenset[str] = field(default=frozenset(), converter=_addresses)
    mail_allowlist: frozenset[str] = field(default=frozenset(), converter=_addresses)
    per_recipient_per_hour: int = 10

    def decide(
        self,
        message: OutboundMessage,
        school: School,
        now: datetime,
        *,
        suppressed: str | None,
        sent_last_hour: int,
    ) -> Decision:
        """`suppressed`: why the recipient is on the suppression list (None if not);
        `sent_last_hour`: messages on this channel already sent to them in the last hour."""
        sms = message.channel is Channel.SMS
        if not (self.sms_enabled if sms else self.mail_enabled):
            switch = "SMS_ENABLED" if sms else "mail kill switch"
            return Decision(Verdict.SUPPRESS, f"{switch} is off: logged, not sent")
        recipient, notes = self._route(message)
        if recipient is None:
            allow = "SMS_ALLOWLIST" if sms else "MAIL_ALLOWLIST"
            return Decision(Verdict.SUPPRESS, f"recipient not on {allow}")
        settings = school.settings
        if not settings.sends(message.type, sms=sms):
            return Decision(
                Verdict.SUPPRESS, f"{school.name} does not send {message.type} by {message.channel}"
            )
        if suppressed is not None:
            return Decision(Verdict.SUPPRESS, f"recipient is suppressed ({suppressed})")
        if sms and not message.type.urgent and school.in_quiet_hours(now, message.type):
            until = _quiet_hours_end(school, message.type, now)
            return Decision(
                Verdict.DEFER, f"quiet hours until {until:%Y-%m-%d %H:%M} UTC", until=until
            )
        if sent_last_hour >= self.per_recipient_per_hour:
            until = now + timedelta(hours=1)
            return Decision(
                Verdict.DEFER, f"throttled: {sent_last_hour} sent in the last hour", until=until
            )
        return Decision(Verdict.SEND, recipient=recipient, notes=notes)

    def _route(
        self, message: OutboundMessage
    ) -> tuple[PhoneNumber | EmailAddress | None, tuple[str, ...]]:
        """The address to use: a staging redirect wins; else the allow-list must admit it."""
        original = message.recipient
        redirect = (
            self.sms_redirect_to if isinstance(original, PhoneNumber) else self.mail_redirect_to
        )
        if redirect is not None:
            return redirect, (f"redirected from {original.masked()} to {redirect.masked()}",)
        allowlist = self.sms_allowlist if isinstance(original, PhoneNumber) else self.mail_allowlist
        if allowlist and not _admitted(str(original).lower(), allowlist):
            return None, ()
        return original, ()


def _admitted(address: str, allowlist: frozenset[str]) -> bool:
    """An exact address, or a whole email domain written as `@example.com`."""
    return address in allowlist or any(
        entry.startswith("@") and address.endswith(entry) for entry in allowlist
    )


def _quiet_hours_end(school: School, type: MessageType, now: datetime) -> datetime:
    quiet = school.settings.quiet_hours_for(type)
    assert quiet is not None
    local = school.local_time(now)
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)
