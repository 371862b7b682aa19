"""Twilio behind the SmsSender port, through twilio-python: the sender, its HTTP client,
its errors in our words and the status callbacks.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.sms.twilio.sender import TwilioSmsSender
    from justdriving.adapters.sms.twilio.webhooks import TwilioWebhooks

__all__ = ["TwilioSmsSender", "TwilioWebhooks"]
__getattr__ = lazy_names(__name__, {"TwilioSmsSender": "sender", "TwilioWebhooks": "webhooks"})
