"""SendGrid behind the EmailSender port, through its SDK: the sender and the signed event
webhooks.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.email.sendgrid.events import SendGridWebhooks
    from justdriving.adapters.email.sendgrid.sender import SendGridEmailSender

__all__ = ["SendGridEmailSender", "SendGridWebhooks"]
__getattr__ = lazy_names(__name__, {"SendGridEmailSender": "sender", "SendGridWebhooks": "events"})
