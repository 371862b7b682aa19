"""GatewayAPI behind the SmsSender port, over its REST API: the sender and the signed
delivery status webhooks.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.sms.gatewayapi.sender import DEFAULT_API_BASE, GatewayApiSmsSender
    from justdriving.adapters.sms.gatewayapi.webhooks import GatewayApiWebhooks

__all__ = ["DEFAULT_API_BASE", "GatewayApiSmsSender", "GatewayApiWebhooks"]
__getattr__ = lazy_names(
    __name__,
    {
        "DEFAULT_API_BASE": "sender",
        "GatewayApiSmsSender": "sender",
        "GatewayApiWebhooks": "webhooks",
    },
)
