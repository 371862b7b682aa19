"""What an Application composed without the faster doors uses: payment receivers straight from
the gateways, and an inbox intake through a unit of work.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.errors import (
    ConfigurationError,
    NotFound,
)
from justdriving.domain.inbound import (
    InboundChannel,
    InboundEvent,
    school_route,
)
from justdriving.domain.outbox import InboxEvent
from justdriving.ports.payments import GatewayRegistry, PaymentGateway
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.ports.webhooks import (
    Acknowledgement,
    WebhookReceiver,
    WebhookRequest,
)


class UnitOfWorkIntake:
    """An InboxIntake through a unit of work, for stores without a faster door (memory)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def put(self, event: InboxEvent) -> bool:
        with self._uow() as uow:
            added = uow.inbox.add(event)
            uow.commit()
        return added


class GatewayReceivers:
    """Payment receivers straight from the gateways, for an Application composed without
    receivers (tests, embedders): each gateway verifies and maps its own webhooks."""

    def __init__(self, gateways: GatewayRegistry) -> None:
        self._gateways = gateways

    def get(self, channel: str, provider: str) -> WebhookReceiver:
        if channel != InboundChannel.PAYMENTS.value:
            raise NotFound("webhook provider", provider[:64])
        name, school_id = school_route(provider)
        if school_id is not None:
            return _GatewayReceiver(self._gateways.school_gateway(name, school_id))
        try:
            return _GatewayReceiver(self._gateways.by_name(provider))
        except ConfigurationError:
            raise NotFound("payment provider", provider[:64]) from None


class _GatewayReceiver:
    channel = InboundChannel.PAYMENTS

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway
        self.name = gateway.name

    def receive(self, request: WebhookRequest, now: datetime) -> list[InboundEvent]:
        return list(self._gateway.parse_webhook(request.body, request.headers, now))

    def acknowledgement(self, request: WebhookRequest) -> Acknowledgement | None:
        return None
