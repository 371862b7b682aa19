"""A school's own account at a payment provider: PayPal's client id, secret and webhook id, so
that its orders are created with its credentials (its money lands in its PayPal account) and
its webhooks are verified with its webhook id. The secret is encrypted at rest (the SQL store
seals it as it seals the accounting tokens) and never shown: not in a repr, a log or a page."""

from __future__ import annotations

import re
from typing import Final

from attrs import define, field, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput

PAYPAL: Final = "paypal"
# PayPal's REST app credentials and webhook ids are URL-safe ASCII (client ids and secrets are
# 80 characters today, webhook ids 17); the bounds leave room without admitting anything else.
_CREDENTIAL: Final = re.compile(r"[A-Za-z0-9_-]{8,160}")
_WEBHOOK_ID: Final = re.compile(r"[A-Za-z0-9-]{4,64}")


@define(eq=False)
class GatewayCredentials(Entity):
    """A school's credentials at one provider (id: provider + school)."""

    id: str
    school_id: str
    provider: str
    client_id: str
    client_secret: str = field(repr=False)
    webhook_id: str
    version: int = 0

    @staticmethod
    def key(provider: str, school_id: str) -> str:
        return f"{provider}:{school_id}"

    @classmethod
    def paypal(
        cls, school_id: str, client_id: str, client_secret: str, webhook_id: str
    ) -> GatewayCredentials:
        """PayPal credentials, checked for their shape (InvalidInput names which is wrong,
        never quoting the secret)."""
        if not _CREDENTIAL.fullmatch(client_id):
            raise InvalidInput(
                "client_id is not a PayPal client id (8 to 160 letters, digits, _ -)"
            )
        if not _CREDENTIAL.fullmatch(client_secret):
            raise InvalidInput(
                "client_secret is not a PayPal secret (8 to 160 letters, digits, _ -)"
            )
        if not _WEBHOOK_ID.fullmatch(webhook_id):
            raise InvalidInput("webhook_id is not a PayPal webhook id (4 to 64 letters, digits, -)")
        return cls(
            id=cls.key(PAYPAL, school_id),
            school_id=school_id,
            provider=PAYPAL,
            client_id=client_id,
            client_secret=client_secret,
            webhook_id=webhook_id,
        )

    def change(self, other: GatewayCredentials) -> None:
        self.client_id, self.client_secret = other.client_id, other.client_secret
        self.webhook_id = other.webhook_id


@frozen
class SchoolPayPal:
    """What a school's PayPal account is known by here (never its secret), and the webhook URL
    path to register with PayPal for it."""

    school_id: str
    client_id: str
    webhook_id: str

    @property
    def webhook_path(self) -> str:
        return f"/webhook/payments/{PAYPAL}/{self.school_id}"
