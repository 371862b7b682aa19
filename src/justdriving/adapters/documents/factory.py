"""The documents adapters as the settings choose them."""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.documents.pay_links import PublicPayLinks
from justdriving.config import Settings
from justdriving.ports.clock import Clock


def pay_links(settings: Settings, clock: Clock) -> PublicPayLinks:
    """Links under PUBLIC_BASE_URL, signed with PAY_LINK_SECRET, valid PAY_LINK_DAYS."""
    return PublicPayLinks(
        settings.public_base_url,
        secret=settings.effective_pay_link_secret,
        lifetime=timedelta(days=settings.pay_link_days),
        clock=clock,
    )
