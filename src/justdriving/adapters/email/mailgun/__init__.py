"""Mailgun behind the EmailSender port, over its REST API: the sender and the signed event
webhooks.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.email.mailgun.events import MailgunWebhooks
    from justdriving.adapters.email.mailgun.sender import EU_API_BASE, MailgunEmailSender

__all__ = ["EU_API_BASE", "MailgunEmailSender", "MailgunWebhooks"]
__getattr__ = lazy_names(
    __name__, {"EU_API_BASE": "sender", "MailgunEmailSender": "sender", "MailgunWebhooks": "events"}
)
